/** What the workbench's views share: the WebGPU backend, the network last trained or opened, and a task's chance level. */
import { createBackend, GpuBackend, NoAdapterError, Rng, browserPlatform } from '../engine/index.ts';
import { getTask } from '../tasks/index.ts';

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

const chances = new Map<string, number | null>();

/** The number of distinct answers scored in a task's trials (labels where mask > 0); null for an unknown task. */
function answerCount(taskName: string): number | null {
  try {
    const ds = getTask(taskName).generate(256, new Rng(0, 'chance'));
    const answers = new Set<number>();
    for (let i = 0; i < ds.labels.length; i++) if (ds.mask[i]! > 0) answers.add(ds.labels[i]!);
    return answers.size || null;
  } catch {
    return null;
  }
}

/**
 * A task's chance accuracy: 1 / the number of answers it scores. The answers are read from the
 * task's own trials (the labels at the scored steps, mask > 0), not from nOut, because nOut counts
 * the outputs, and in the NeuroGym tasks output 0 is "fixate": it is scored as an answer only
 * where it is one (ng.GoNogo, where fixating is the NoGo answer: 2 answers, nOut 2), while in
 * ng.PerceptualDecisionMaking, ng.ContextDecisionMaking and ng.DelayMatchSample the decision is
 * 1 or 2 of nOut 3 (chance 1/2, not 1/3). The paper's tasks score every output: Go/NoGo and PDM
 * 1/2, one-step inference 1/4 (four directions, two of them offered per trial). Null for a task
 * this build does not know.
 */
export function chanceLevel(taskName: string): number | null {
  if (!chances.has(taskName)) chances.set(taskName, answerCount(taskName));
  const answers = chances.get(taskName);
  return answers ? 1 / answers : null;
}
