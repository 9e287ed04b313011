/** Typed errors of the engine. Every GPU failure names the kernel it happened in. */

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A WGSL program failed to compile; `messages` are the compiler's lines with positions. */
export class KernelCompileError extends EngineError {
  constructor(
    readonly kernel: string,
    readonly messages: string[],
  ) {
    super(`WGSL compile error in kernel '${kernel}':\n${messages.join('\n')}`);
  }
}

/** WebGPU rejected a call (bad binding, size, usage...). */
export class KernelValidationError extends EngineError {
  constructor(
    readonly kernel: string,
    detail: string,
  ) {
    super(`WebGPU validation error in kernel '${kernel}': ${detail}`);
  }
}

/** A buffer could not be allocated, or exceeds the adapter's limits. */
export class GpuOutOfMemoryError extends EngineError {
  constructor(
    readonly kernel: string,
    detail: string,
  ) {
    super(`GPU out of memory in '${kernel}': ${detail}`);
  }
}

/** The device was lost (driver reset, destroyed, unplugged). The context cannot be used again. */
export class DeviceLostError extends EngineError {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(`WebGPU device lost (${reason}): ${detail}`);
  }
}

/**
 * Operand shapes or sizes do not fit the op. The message reads `shape error in '<op>': <detail>`,
 * or is `{ message }` word for word where callers already match an older wording.
 */
export class ShapeError extends EngineError {
  constructor(
    readonly op: string,
    detail: string | { message: string },
  ) {
    super(typeof detail === 'string' ? `shape error in '${op}': ${detail}` : detail.message);
  }
}

/** Training produced NaN or Inf; names the step, the tensor and (of several) the model. */
export class NonFiniteError extends EngineError {
  constructor(
    readonly step: number,
    readonly tensor: string,
    readonly value: number,
    readonly model: number | null = null,
  ) {
    super(`non-finite value (${value}) in '${tensor}'${model === null ? '' : ` of model ${model}`} at training step ${step}; training stopped`);
  }
}

/**
 * A bad value of a named option (a CLI flag, a library option or argument): a usage error. The
 * message reads `<option>: expected <expected>, got <got>`, or is `whole.message` word for word
 * where callers already match an older wording.
 */
export class OptionError extends EngineError {
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly got: string,
    whole?: { message: string },
  ) {
    super(whole?.message ?? `${option}: expected ${expected}, got ${got}`);
  }
}
