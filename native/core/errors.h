// Errors raised by native code. Every binding catches them at the boundary and turns them
// into JS errors, so native code never aborts the process.
#pragma once
#include <stdexcept>
#include <string>

namespace tessera {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// "<op>: expected <expected> for <arg> but got <got>": the format the TypeScript layer uses
// too, so a user sees the same shape of message whichever side caught the problem.
[[noreturn]] inline void ThrowArgError(const std::string& op, const std::string& arg,
                                       const std::string& expected, const std::string& got) {
  throw Error(op + ": expected " + expected + " for " + arg + " but got " + got);
}

#define TESSERA_CHECK(cond, op, arg, expected, got)                  \
  do {                                                               \
    if (!(cond)) ::tessera::ThrowArgError((op), (arg), (expected), (got)); \
  } while (0)

}  // namespace tessera
