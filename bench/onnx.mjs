// ONNX models built in memory for the onnxruntime-node peer: no model files, only the subset
// of the ONNX schema that these graphs use, encoded with protobufjs. Field numbers follow
// onnx.proto (IR version 8); proto2 `optional` keeps explicitly set zero values on the wire.
// protobufjs loads on first use, so the bench runs (without this peer) where it is missing.

const SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType { UNDEFINED = 0; INT = 2; INTS = 7; }
  optional string name = 1;
  optional int64 i = 3;
  repeated int64 ints = 8;
  optional AttributeType type = 20;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension { optional int64 dim_value = 1; }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

let ModelProto;
const AttributeType = { INT: 2, INTS: 7 }; // AttributeProto.AttributeType, as in SCHEMA
const FLOAT = 1; // TensorProto.DataType.FLOAT
const IR_VERSION = 8;
const OPSET = 17;

/** A float32 graph input or output of a fixed shape. */
export function value(name, shape) {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } } };
}

/** A float32 initializer (a constant the session may pre-pack) from a Float32Array. */
export function initializer(name, shape, data) {
  if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`initializer ${name}: ${data.length} values for shape [${shape}]`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, dims: shape, dataType: FLOAT, rawData: bytes };
}

/** A node; these graphs need integer and integer-list attributes only. */
export function node(opType, inputs, outputs, attributes = {}) {
  const attribute = Object.entries(attributes).map(([name, v]) => {
    if (Array.isArray(v) && v.every(Number.isInteger)) return { name, type: AttributeType.INTS, ints: v };
    if (Number.isInteger(v)) return { name, type: AttributeType.INT, i: v };
    throw new Error(`${opType}.${name}: only integer attributes are supported`);
  });
  return { opType, input: inputs, output: outputs, name: `${opType}_${outputs[0]}`, attribute };
}

/** Serialised ModelProto bytes for InferenceSession.create. */
export async function model({ nodes, inputs, outputs, initializers = [] }) {
  const message = {
    irVersion: IR_VERSION,
    producerName: 'tessera-bench',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: { name: 'bench', node: nodes, input: inputs, output: outputs, initializer: initializers },
  };
  if (!ModelProto) {
    const { default: protobuf } = await import('protobufjs');
    ModelProto = protobuf.parse(SCHEMA).root.lookupType('onnx.ModelProto');
  }
  const problem = ModelProto.verify(message);
  if (problem) throw new Error(`ONNX model: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}
