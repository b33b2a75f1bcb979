// The WebGPU device: Dawn through the npm package `webgpu` (dawn.node), on the main thread.
//
// What it owns: the adapter and device, a pool of storage buffers, the compute pipelines
// (cached by an explicit key), one command encoder that collects dispatches until something
// needs their results, and the transfers in both directions.
//
// Synchronous reads. WebGPU maps buffers only asynchronously, yet tfjs needs readSync
// (dataSync, and the CPU fallback of kernels without WGSL). dawn.node delivers map callbacks
// when its event pump runs: a native function it hands to setImmediate whenever callbacks
// are outstanding. The device notes that function while it creates the GPUDevice (and every
// time dawn.node reschedules it during one of our calls), and readSync calls it in a loop
// until the staging buffer is mapped, with re-schedules held back meanwhile and one passed on
// afterwards, so dawn.node's own scheduling is left as it was. Where that function cannot be
// found (another dawn.node), readSync throws and says to use the async read. A worker thread
// owning Dawn would be the textbook alternative; dawn.node crashes under that pattern (a
// blocked main thread waiting on a worker that maps buffers), measured 20 of 20 runs here.
//
// Errors. Shader and pipeline creation run inside Dawn error scopes; what they report
// arrives asynchronously and is thrown by the next operation on the device (and rejects
// pending reads). Device loss is recorded the same way; a read in flight fails at once
// instead of hanging, and every later operation throws.
export type PowerPreference = 'low-power' | 'high-performance';

export interface WebGpuOptions {
  /** Adapter power preference handed to requestAdapter. */
  powerPreference?: PowerPreference;
  /**
   * Dawn backend to use: 'vulkan', 'metal', 'd3d12', 'd3d11', 'opengl', 'opengles' or 'null'.
   * Default: Dawn's choice for the platform. (TESSERA_WEBGPU_BACKEND sets it too.)
   */
  backend?: string;
  /**
   * Pick the adapter whose name contains this text (case-insensitive), e.g. 'swiftshader' or
   * 'nvidia'. (TESSERA_WEBGPU_ADAPTER sets it too.) Dawn's `adapter=` flag does the matching.
   */
  adapter?: string;
  /** Extra flags for dawn.node's create(), e.g. 'enable-dawn-features=...'. */
  dawnFlags?: string[];
  /** How long a synchronous read may wait for the GPU before it throws (ms). Default 60000. */
  readTimeoutMs?: number;
}

export class WebGpuError extends Error {
  override name = 'WebGpuError';
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** A compute kernel: WGSL with entry point `main`, cached by `key`. */
export interface Program {
  /** Pipeline cache key. One key always stands for one WGSL source. */
  key: string;
  /** Builds the WGSL source; called only when the key is not cached yet. */
  wgsl: () => string;
}

export interface GpuBufferStats {
  /** Storage buffers handed out and not yet released. */
  liveBuffers: number;
  /** Bytes of those buffers. */
  liveBytes: number;
  /** Released buffers kept for reuse, and their bytes. */
  pooledBuffers: number;
  pooledBytes: number;
  /** Distinct compute pipelines created. */
  pipelines: number;
  /** Dispatches recorded since the device was created. */
  dispatches: number;
  /** Command buffers submitted. */
  submits: number;
}

type Dawn = { create(flags: string[]): GPU; globals: Record<string, unknown> };

// Dispatches gathered before a submit even when nothing reads: keeps the encoder short.
const MAX_PENDING_DISPATCHES = 64;
// Released storage buffers kept for reuse, at most this many bytes in all.
const MAX_POOLED_BYTES = 512 * 1024 * 1024;
const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */
const UNIFORM_USAGE = 0x40 /* UNIFORM */ | 0x8; /* COPY_DST */
const MAP_READ_USAGE = 0x1 /* MAP_READ */ | 0x8; /* COPY_DST */
const MAP_MODE_READ = 0x1;

/** Storage buffers are sized in multiples of 16 bytes, so that vec4 loads stay inside. */
export function storageBytes(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

let dawnModule: Promise<Dawn> | undefined;

// Loaded on first use only: dawn.node is a 20 MB library that tessera-cpu users never need.
function loadDawn(): Promise<Dawn> {
  dawnModule ??= import('webgpu') as unknown as Promise<Dawn>;
  return dawnModule;
}

// ---- dawn.node's event pump ------------------------------------------------------------------

const realSetImmediate = globalThis.setImmediate;
let captureDepth = 0;
let captured: Array<() => void> = [];
let holdBack = false;

type Immediate = ReturnType<typeof setImmediate>;

function capturingSetImmediate(this: unknown, callback: (...args: unknown[]) => void, ...args: unknown[]): Immediate {
  if (captureDepth > 0 && typeof callback === 'function') {
    const run = () => callback(...args);
    captured.push(run);
    if (holdBack) {
      // Held until the synchronous wait ends; a stand-in handle for the caller.
      return { ref() { return this; }, unref() { return this; }, hasRef: () => false, refresh() { return this; }, [Symbol.toPrimitive]: () => 0 } as unknown as Immediate;
    }
  }
  return realSetImmediate.call(this as never, callback as never, ...(args as [])) as Immediate;
}

/** Runs `f` with setImmediate observed; returns what it returned and the callbacks scheduled. */
function observingImmediates<T>(f: () => T, hold: boolean): { result: T; scheduled: Array<() => void> } {
  const saved = { captured, holdBack, setImmediate: globalThis.setImmediate };
  captured = [];
  holdBack = hold;
  captureDepth++;
  globalThis.setImmediate = capturingSetImmediate as typeof setImmediate;
  try {
    const result = f();
    return { result, scheduled: captured };
  } finally {
    captureDepth--;
    captured = saved.captured;
    holdBack = saved.holdBack;
    globalThis.setImmediate = saved.setImmediate;
  }
}

// ---- the device ----------------------------------------------------------------------------------

interface PendingMap {
  buffer: GPUBuffer;
  done: Promise<void>;
}

export class WebGpuDevice {
  readonly kind = 'webgpu' as const;
  readonly adapterInfo: AdapterDescription;
  readonly limits: { maxComputeWorkgroupsPerDimension: number; maxStorageBufferBindingSize: number; maxComputeInvocationsPerWorkgroup: number; maxComputeWorkgroupStorageSize: number };

  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  private pooledCount = 0;
  private liveCount = 0;
  private liveBytes = 0;
  private readonly uniformPool = new Map<number, GPUBuffer[]>();
  private uniformsInFlight: GPUBuffer[] = [];
  private encoder: GPUCommandEncoder | null = null;
  private pendingDispatches = 0;
  private dispatchCount = 0;
  private submitCount = 0;
  private pendingError: Error | null = null;
  private lostReason: string | null = null;
  private destroyed = false;
  private released = false;
  private readsInFlight = 0;
  private pump: (() => void) | null;
  private readonly readTimeoutMs: number;
  private readonly checks = new Set<Promise<void>>();
  private collecting: string[] | null = null;

  private constructor(
    private readonly gpu: GPU,
    private readonly device: GPUDevice,
    info: AdapterDescription,
    pump: (() => void) | null,
    options: WebGpuOptions,
  ) {
    this.adapterInfo = info;
    this.pump = pump;
    this.readTimeoutMs = options.readTimeoutMs ?? 60000;
    const l = device.limits;
    this.limits = {
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    };
    // Errors outside our scopes (a dispatch with an invalid pipeline, a bad bind group):
    // dawn.node calls this handler from its event pump, so a synchronous read that drives
    // the pump sees them before it returns.
    device.addEventListener('uncapturederror', (event) => {
      // Handled here: without preventDefault dawn.node also prints it to stderr.
      event.preventDefault();
      const message = (event as GPUUncapturedErrorEvent).error.message;
      if (this.collecting !== null) this.collecting.push(message);
      else this.pendingError ??= new WebGpuError(`tessera-webgpu: ${message.split('\n')[0]}`);
    });
    void device.lost.then((info) => {
      if (this.destroyed) return;
      this.lostReason = `${info.reason}: ${info.message}`;
      this.pendingError ??= new WebGpuError(`tessera-webgpu: the GPU device was lost (${this.lostReason})`);
    });
  }

  /** Opens a device. Throws a WebGpuError naming what is missing when none can be had. */
  static async create(options: WebGpuOptions = {}): Promise<WebGpuDevice> {
    let dawn: Dawn;
    try {
      dawn = await loadDawn();
    } catch (e) {
      dawnModule = undefined;
      throw new WebGpuError(`tessera-webgpu: the webgpu package (dawn.node) does not load: ${(e as Error).message.split('\n')[0]}`);
    }
    // Dawn's WebGPU constants (GPUBufferUsage, ...), as a browser has them.
    for (const [name, value] of Object.entries(dawn.globals)) {
      if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
    }
    const backend = options.backend ?? process.env.TESSERA_WEBGPU_BACKEND;
    const adapterName = options.adapter ?? process.env.TESSERA_WEBGPU_ADAPTER;
    const flags = [...(options.dawnFlags ?? [])];
    if (backend) flags.push(`backend=${backend}`);
    if (adapterName) flags.push(`adapter=${adapterName}`);
    const gpu = dawn.create(flags);
    const adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
    if (adapter === null) {
      throw new WebGpuError(
        `tessera-webgpu: no WebGPU adapter${adapterName ? ` matching '${adapterName}'` : ''}${backend ? ` on Dawn's ${backend} backend` : ''}` +
          ' (no GPU driver Dawn can use: on Linux, Vulkan needs libvulkan1 and a driver, e.g. SwiftShader via VK_ICD_FILENAMES)',
      );
    }
    const a = adapter.info;
    const info: AdapterDescription = { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description };
    const wanted = adapter.limits;
    const { result, scheduled } = observingImmediates(
      () =>
        adapter.requestDevice({
          requiredLimits: {
            maxStorageBufferBindingSize: wanted.maxStorageBufferBindingSize,
            maxBufferSize: wanted.maxBufferSize,
            maxComputeWorkgroupStorageSize: wanted.maxComputeWorkgroupStorageSize,
            maxComputeInvocationsPerWorkgroup: wanted.maxComputeInvocationsPerWorkgroup,
            maxStorageBuffersPerShaderStage: wanted.maxStorageBuffersPerShaderStage,
          },
        }),
      false,
    );
    const device = await result;
    const pump = scheduled.length > 0 ? scheduled[scheduled.length - 1] : null;
    return new WebGpuDevice(gpu, device, info, pump, options);
  }

  /** A short human-readable name of the adapter. */
  get name(): string {
    const { description, vendor, architecture } = this.adapterInfo;
    return description || [vendor, architecture].filter(Boolean).join(' ') || 'unknown adapter';
  }

  /** Whether readSync can wait for the GPU (dawn.node's event pump was found). */
  get canReadSync(): boolean {
    return this.pump !== null;
  }

  /** Throws the first error Dawn reported (shader, pipeline, device loss) since the last check. */
  checkErrors(): void {
    if (this.destroyed) throw new WebGpuError('tessera-webgpu: the device was disposed');
    this.throwReported();
  }

  private throwReported(): void {
    if (this.pendingError !== null) {
      const error = this.pendingError;
      // A lost device stays lost; other errors are reported once.
      if (this.lostReason === null) this.pendingError = null;
      throw error;
    }
  }

  // ---- buffers ----

  /** A storage buffer of at least `bytes` bytes (contents undefined). */
  createBuffer(bytes: number): GPUBuffer {
    this.checkErrors();
    const size = storageBytes(bytes);
    if (size > this.limits.maxStorageBufferBindingSize) {
      throw new WebGpuError(
        `tessera-webgpu: a tensor of ${bytes} bytes is larger than this adapter's largest storage buffer (${this.limits.maxStorageBufferBindingSize} bytes)`,
      );
    }
    const free = this.pool.get(size);
    let buffer: GPUBuffer | undefined;
    if (free !== undefined && free.length > 0) {
      buffer = free.pop()!;
      this.pooledBytes -= size;
      this.pooledCount--;
    } else {
      buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE });
    }
    this.liveCount++;
    this.liveBytes += size;
    return buffer;
  }

  /** Takes a buffer back. Commands already recorded that use it still see its contents. */
  releaseBuffer(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.liveCount--;
    this.liveBytes -= size;
    if (this.destroyed) return;
    if (this.pooledBytes + size > MAX_POOLED_BYTES) {
      buffer.destroy();
      return;
    }
    const list = this.pool.get(size);
    if (list === undefined) this.pool.set(size, [buffer]);
    else list.push(buffer);
    this.pooledBytes += size;
    this.pooledCount++;
  }

  /** Frees every pooled buffer. */
  trimPool(): void {
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
    this.pooledCount = 0;
  }

  /** Copies `data` into `buffer` at offset 0, after every dispatch recorded so far. */
  upload(buffer: GPUBuffer, data: ArrayBufferView): void {
    this.checkErrors();
    // queue.writeBuffer runs before commands still sitting in the encoder; submit them first,
    // since a pooled buffer may be one they read.
    this.flush();
    const bytes = data.byteLength;
    if (bytes === 0) return;
    if (bytes % 4 === 0) {
      this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, bytes);
    } else {
      const padded = new Uint8Array(Math.ceil(bytes / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, bytes));
      this.device.queue.writeBuffer(buffer, 0, padded);
    }
  }

  // ---- kernels ----

  /** Dawn errors raised synchronously while `f` runs (dawn.node reports them as it goes). */
  private collectErrors(f: () => void): string[] {
    const outer = this.collecting;
    const errors: string[] = [];
    this.collecting = errors;
    try {
      f();
    } finally {
      this.collecting = outer;
    }
    return errors;
  }

  /**
   * The compute pipeline for `program` and its bind group layout, created on first use
   * inside Dawn error scopes. The scopes' verdict arrives asynchronously, so the pipeline is
   * also probed at once: an invalid one makes getBindGroupLayout raise an error, and then
   * the shader and pipeline are created again outside any scope, where Dawn reports the
   * compiler's own message synchronously, and that is thrown.
   */
  pipeline(program: Program): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    const cached = this.pipelines.get(program.key);
    if (cached !== undefined) return cached;
    this.checkErrors();
    const code = program.wgsl();
    const device = this.device;
    const create = () => {
      const module = device.createShaderModule({ code, label: program.key });
      return { module, pipeline: device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: program.key }) };
    };
    device.pushErrorScope('internal');
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    const { module, pipeline } = create();
    const scopes = [device.popErrorScope(), device.popErrorScope(), device.popErrorScope()];
    let layout: GPUBindGroupLayout | undefined;
    const probe = this.collectErrors(() => {
      layout = pipeline.getBindGroupLayout(0);
    });
    if (probe.length > 0) {
      scopes.forEach((p) => p.catch(() => undefined));
      const messages = this.collectErrors(() => void create());
      const text = (messages.length > 0 ? messages : probe).map((m) => m.trim()).join('\n');
      throw new WebGpuError(`tessera-webgpu: kernel ${program.key} does not compile: ${text}`);
    }
    const check = Promise.all(scopes).then(async (errors) => {
      const error = errors.find((e) => e !== null);
      if (error == null) return;
      let details = '';
      try {
        const info = await module.getCompilationInfo();
        details = info.messages
          .filter((m) => m.type === 'error')
          .map((m) => `\n  line ${m.lineNum}:${m.linePos}: ${m.message}`)
          .join('');
      } catch {
        // The scope's message is enough.
      }
      this.pipelines.delete(program.key);
      this.pendingError ??= new WebGpuError(`tessera-webgpu: kernel ${program.key} failed: ${error.message}${details}`);
    });
    this.track(check);
    const entry = { pipeline, layout: layout! };
    this.pipelines.set(program.key, entry);
    return entry;
  }

  private track(check: Promise<void>): void {
    this.checks.add(check);
    void check.finally(() => this.checks.delete(check));
  }

  /**
   * Records one dispatch of `program`: `buffers` bind to @binding(0..n-1) of @group(0) in
   * order, `uniforms` (if any) to @binding(n), as a uniform buffer.
   */
  dispatch(program: Program, buffers: readonly GPUBuffer[], uniforms: ArrayBufferView | null, workgroups: readonly [number, number?, number?]): void {
    this.checkErrors();
    const [x, y = 1, z = 1] = workgroups;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new WebGpuError(`tessera-webgpu: kernel ${program.key}: ${x}x${y}x${z} workgroups exceed the adapter's ${max} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const { pipeline, layout } = this.pipeline(program);
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    if (uniforms !== null) {
      const ub = this.uniformBuffer(uniforms.byteLength);
      this.device.queue.writeBuffer(ub, 0, uniforms.buffer, uniforms.byteOffset, uniforms.byteLength);
      entries.push({ binding: buffers.length, resource: { buffer: ub } });
    }
    const bindGroup = this.device.createBindGroup({ layout, entries });
    this.encoder ??= this.device.createCommandEncoder();
    const pass = this.encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.dispatchCount++;
    if (++this.pendingDispatches >= MAX_PENDING_DISPATCHES) this.flush();
  }

  /** Records a copy of `bytes` bytes between storage buffers (offsets in bytes, multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.checkErrors();
    if (bytes === 0) return;
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, Math.ceil(bytes / 4) * 4);
    if (++this.pendingDispatches >= MAX_PENDING_DISPATCHES) this.flush();
  }

  // Uniform buffers are written with queue.writeBuffer, which runs before the encoder's
  // commands: so a uniform buffer is only reused after the submit of every command reading it.
  private uniformBuffer(bytes: number): GPUBuffer {
    const size = storageBytes(bytes);
    const list = this.uniformPool.get(size);
    const buffer = list !== undefined && list.length > 0 ? list.pop()! : this.device.createBuffer({ size, usage: UNIFORM_USAGE });
    this.uniformsInFlight.push(buffer);
    return buffer;
  }

  /** Submits the dispatches recorded so far. */
  flush(): void {
    if (this.encoder === null) return;
    const commands = this.encoder.finish();
    this.encoder = null;
    this.pendingDispatches = 0;
    this.device.queue.submit([commands]);
    this.submitCount++;
    for (const ub of this.uniformsInFlight) {
      const list = this.uniformPool.get(ub.size);
      if (list === undefined) this.uniformPool.set(ub.size, [ub]);
      else list.push(ub);
    }
    this.uniformsInFlight = [];
  }

  // ---- reads ----

  private stage(buffer: GPUBuffer, bytes: number): GPUBuffer {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({ size, usage: MAP_READ_USAGE });
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.flush();
    return staging;
  }

  private finishRead(staging: GPUBuffer, bytes: number): ArrayBuffer {
    if (staging.mapState !== 'mapped') {
      staging.destroy();
      this.throwReported();
      throw new WebGpuError(
        `tessera-webgpu: reading a tensor from the GPU failed (the staging buffer could not be mapped${this.lostReason ? `: device lost, ${this.lostReason}` : ''})`,
      );
    }
    const copy = staging.getMappedRange(0, staging.size).slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return copy;
  }

  /** The first `bytes` bytes of `buffer`, once every recorded dispatch has run. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.checkErrors();
    if (bytes === 0) return new ArrayBuffer(0);
    const staging = this.stage(buffer, bytes);
    // A read in flight completes even if the device is disposed meanwhile (tfjs disposes
    // backends on reset while a caller may still await data()): destroy() waits for it.
    this.readsInFlight++;
    try {
      await staging.mapAsync(MAP_MODE_READ);
    } catch {
      // finishRead reports it, with the device loss if that is the cause.
    } finally {
      this.readsInFlight--;
    }
    try {
      // Kernel checks still outstanding may explain a wrong result: report them first.
      await Promise.all([...this.checks]);
      this.throwReported();
      return this.finishRead(staging, bytes);
    } finally {
      if (this.destroyed && this.readsInFlight === 0) this.release();
    }
  }

  /** As read(), blocking: runs dawn.node's event pump until the copy is mapped. */
  readSync(buffer: GPUBuffer, bytes: number): ArrayBuffer {
    this.checkErrors();
    if (bytes === 0) return new ArrayBuffer(0);
    if (this.pump === null) {
      throw new WebGpuError(
        'tessera-webgpu: readSync (dataSync, arraySync) cannot wait for the GPU with this dawn.node (its event pump was not found); use await tensor.data() or tensor.array()',
      );
    }
    const staging = this.stage(buffer, bytes);
    this.waitMapped({ buffer: staging, done: staging.mapAsync(MAP_MODE_READ) });
    this.checkErrors();
    return this.finishRead(staging, bytes);
  }

  private waitMapped(pending: PendingMap): void {
    pending.done.catch(() => undefined);
    const started = performance.now();
    const { scheduled } = observingImmediates(() => {
      let spins = 0;
      while (pending.buffer.mapState === 'pending') {
        const pump = captured.length > 0 ? captured[captured.length - 1] : this.pump!;
        pump();
        // Checking the clock every call would cost more than the pump on a fast GPU.
        if ((++spins & 255) === 0 && performance.now() - started > this.readTimeoutMs) {
          throw new WebGpuError(`tessera-webgpu: the GPU did not finish within ${this.readTimeoutMs} ms (readTimeoutMs) while reading a tensor`);
        }
      }
    }, true);
    if (scheduled.length > 0) {
      // dawn.node re-scheduled its pump while we drove it: pass the latest on to the event
      // loop (its own bookkeeping expects one to be pending) and keep it for the next wait.
      const latest = scheduled[scheduled.length - 1];
      this.pump = latest;
      realSetImmediate(latest);
    }
  }

  /** Resolves when every dispatch recorded so far has run on the GPU. */
  async idle(): Promise<void> {
    this.checkErrors();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await Promise.all([...this.checks]);
    // A wait in flight completes even if the device is disposed meanwhile, as reads do:
    // tfjs's profiler still holds kernel timings (backend.time) when a test resets tfjs.
    if (this.destroyed) return;
    this.checkErrors();
  }

  // ---- lifetime ----

  stats(): GpuBufferStats {
    return {
      liveBuffers: this.liveCount,
      liveBytes: this.liveBytes,
      pooledBuffers: this.pooledCount,
      pooledBytes: this.pooledBytes,
      pipelines: this.pipelines.size,
      dispatches: this.dispatchCount,
      submits: this.submitCount,
    };
  }

  /**
   * Destroys the device and drops every Dawn object, so that the process can exit. Later
   * operations throw; async reads already in flight still complete first.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.flush();
    this.destroyed = true;
    if (this.readsInFlight === 0) this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.trimPool();
    for (const list of this.uniformPool.values()) for (const b of list) b.destroy();
    this.uniformPool.clear();
    this.pipelines.clear();
    this.device.destroy();
    void this.gpu;
  }
}

/** Bytes per element of a dtype as stored on the GPU (bool as u32). */
export const GPU_ELEMENT_BYTES = 4;

/** Workgroups for `invocations` threads in groups of `size`, split over y past the per-dimension limit. */
export function workgroupsFor(invocations: number, size: number, maxPerDimension = 65535): [number, number, number] {
  const groups = Math.ceil(invocations / size);
  if (groups <= maxPerDimension) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDimension);
  return [Math.ceil(groups / y), y, 1];
}
