/**
 * CLI of the tfjs peer: one backend per process, one JSON line per configuration on stdout.
 *
 *   npx tsx bench/peers/tfjs_main.ts --backend webgpu --N 100,256 --reg both --budget 2
 *   npx tsx bench/peers/tfjs_main.ts --backend wasm --N 100 --reg false
 *
 * Options: --backend webgpu|wasm|cpu, --N list, --reg false|true|both, --budget seconds (5),
 * --B 32, --T 100, --alpha 0.2, --lambda 0.01, --seed 0, --warmup, --min-steps, --max-steps,
 * --dawn vulkan|opengl (forces Dawn's native backend; default: Dawn's default, as the engine),
 * --data FILE (a workload file of peer_data.ts instead of the canonical workload; --N, --B, --T
 * and --alpha then come from it) and --workload NAME (its name in the output lines).
 * A backend that cannot start prints one probe line with `error` and exits 0.
 */
import { loadTf, runTfjsConfig, type TfjsBackendName } from './tfjs.ts';
import type { PeerResult } from './workload.ts';
import { readPeerData } from './peer_data.ts';

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) m.set(a.slice(2), 'true');
      else {
        m.set(a.slice(2), v);
        i++;
      }
    }
  }
  return m;
}

function num(m: Map<string, string>, k: string): number | undefined {
  const v = m.get(k);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new Error(`--${k}: not a number: ${v}`);
  return x;
}

function emit(r: PeerResult): void {
  process.stdout.write(JSON.stringify(r) + '\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const backend = (args.get('backend') ?? 'webgpu') as TfjsBackendName;
  if (!['webgpu', 'wasm', 'cpu'].includes(backend)) throw new Error(`--backend must be webgpu, wasm or cpu, got ${backend}`);
  const Ns = (args.get('N') ?? '100,256').split(',').map((s) => Number(s.trim()));
  if (Ns.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--N: bad list ${args.get('N')}`);
  const regArg = args.get('reg') ?? 'both';
  const regs = regArg === 'both' ? [false, true] : regArg === 'true' ? [true] : regArg === 'false' ? [false] : null;
  if (!regs) throw new Error(`--reg must be false, true or both, got ${regArg}`);
  const dawnBackend = args.get('dawn');
  const dataFile = args.get('data');
  const data = dataFile ? readPeerData(dataFile) : undefined;
  const peer = `tfjs-${backend}`;
  let h;
  try {
    h = await loadTf(backend, { dawnBackend });
  } catch (e) {
    emit({
      peer,
      N: null,
      reg: null,
      steps_per_s: null,
      ms_per_step: null,
      probe: true,
      error: `backend unavailable: ${e instanceof Error ? e.message : String(e)}`,
    });
    return 0;
  }
  try {
    for (const N of data ? [data.N] : Ns) {
      for (const reg of regs) {
        const r = await runTfjsConfig(h, {
          N,
          reg,
          data,
          workload: args.get('workload'),
          B: num(args, 'B'),
          T: num(args, 'T'),
          alpha: num(args, 'alpha'),
          lambda: num(args, 'lambda'),
          seed: num(args, 'seed'),
          budgetS: num(args, 'budget'),
          warmup: num(args, 'warmup'),
          minSteps: num(args, 'min-steps'),
          maxSteps: num(args, 'max-steps'),
        });
        emit({ ...r, node: process.version });
      }
    }
  } finally {
    h.dispose();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`tfjs peer: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
