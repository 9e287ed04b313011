/** What the workbench's views share: the WebGPU backend and the network last trained or opened. */
import { createBackend, GpuBackend, NoAdapterError, browserPlatform } from '../engine/index.ts';

let backend: Promise<GpuBackend> | null = null;

/** The engine's backend on this browser's adapter; rejects with what to enable when there is none. */
export function gpuBackend(): Promise<GpuBackend> {
  backend ??= (async () => {
    if (!('gpu' in navigator)) {
      throw new Error(
        window.isSecureContext
          ? 'this browser has no WebGPU (navigator.gpu is missing): use Chrome or Edge 113+, Safari 26+, or Firefox 141+; on Linux Chromium, start it with --enable-unsafe-webgpu (and --enable-features=Vulkan where a Vulkan driver exists)'
          : 'WebGPU needs a secure context: open the workbench at http://127.0.0.1 or localhost (as `cortical-rnn serve` prints), or over https',
      );
    }
    try {
      const b = await createBackend(browserPlatform, { requireGpu: true });
      return b as GpuBackend;
    } catch (e) {
      if (e instanceof NoAdapterError)
        throw new Error(
          'navigator.gpu exists but gave no adapter: enable hardware acceleration (chrome://settings/system), or on Linux start Chromium with --enable-unsafe-webgpu',
          { cause: e },
        );
      throw e;
    }
  })();
  return backend;
}

/** A trained network to show in 3D: its field, W_rec and module of each neuron. */
export interface ShownNetwork {
  field: string;
  label: string;
  n: number;
  W: ArrayLike<number>;
  communities: ArrayLike<number>;
  /** Positions in µm [n·3], when they came with the network (a results run). */
  positionsUm?: ArrayLike<number>;
}

const listeners: ((net: ShownNetwork) => void)[] = [];
let shown: ShownNetwork | null = null;

export function showNetwork(net: ShownNetwork): void {
  shown = net;
  for (const l of listeners) l(net);
}

export function onNetwork(l: (net: ShownNetwork) => void): void {
  listeners.push(l);
}

export function networkShown(): ShownNetwork | null {
  return shown;
}
