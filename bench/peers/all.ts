/**
 * Runs the peers one after another, each in its own process, on the same workload, and prints
 * their JSON lines and a markdown table (ms/step, steps/s, and each peer's speed relative to a
 * reference peer, pair by pair within this run) with the load average.
 *
 *   npx tsx bench/peers/all.ts --N 100,256 --budget 2 [--peers tfjs-webgpu,tfjs-wasm,torch-cpu]
 *                             [--ref torch-cpu] [--out results.jsonl]
 *                             [--variants cudnn,eager,graph,bmm] [--bmm-k 16] [--alpha 1]
 *
 * PyTorch's variants run in its one process; each is a row of the table (`torch-cpu` alone is
 * the eager loop, bmm-K's times are per network-step). The canonical workload's alpha is 0.2,
 * where torch.nn.RNN (cudnn) cannot run: `--alpha 1` makes it the Elman cell.
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { peerLabel, runPeerProcess, speedRatio, TORCH_VARIANTS, type PeerKind, type PeerResult, type TorchVariant } from './run.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const fmtMs = (ms: number | null) => (ms == null ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 100 ? 1 : 0)} ms`);

/** --variants and --bmm-k, for the PyTorch peers. */
function torchOptions(): { variants: TorchVariant[]; bmmK: number } {
  const variants = arg('variants', 'eager').split(',') as TorchVariant[];
  const bad = variants.find((v) => !(TORCH_VARIANTS as readonly string[]).includes(v));
  if (bad !== undefined) throw new Error(`--variants: ${bad} is not one of ${TORCH_VARIANTS.join(', ')}`);
  return { variants, bmmK: Number(arg('bmm-k', '16')) };
}

async function main(): Promise<void> {
  const Ns = arg('N', '100,256').split(',').map(Number);
  const budgetS = Number(arg('budget', '5'));
  const peers = arg('peers', 'tfjs-webgpu,tfjs-wasm,torch-cpu').split(',') as PeerKind[];
  const ref = arg('ref', 'torch-cpu');
  const out = process.argv.includes('--out') ? arg('out', '') : '';
  const torch = torchOptions();
  const alpha = process.argv.includes('--alpha') ? Number(arg('alpha', '')) : undefined;
  const load0 = os.loadavg();
  const t0 = Date.now();
  const results = new Map<string, PeerResult[]>();
  for (const kind of peers) {
    const t = Date.now();
    const rs = await runPeerProcess(kind, { Ns, reg: 'both', budgetS, alpha, ...(kind.startsWith('torch-') ? torch : {}) });
    for (const r of rs) results.set(peerLabel(r), [...(results.get(peerLabel(r)) ?? []), r]);
    for (const r of rs) {
      const line = JSON.stringify({ ...r, kind, loadavg: os.loadavg().map((x) => +x.toFixed(2)) });
      console.log(line);
      if (out) appendFileSync(out, line + '\n');
    }
    process.stderr.write(`[peers] ${kind}: ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  }
  const load1 = os.loadavg();
  console.log(
    `\nB=32 T=100${alpha === undefined ? '' : ` alpha=${alpha}`}, budget ${budgetS} s/config, wall ${((Date.now() - t0) / 1000).toFixed(0)} s, ` +
      `loadavg start ${load0.map((x) => x.toFixed(2)).join(' ')}, end ${load1.map((x) => x.toFixed(2)).join(' ')}\n`,
  );
  const cols = Ns.flatMap((N) => [false, true].map((reg) => ({ N, reg })));
  console.log(`| peer | ${cols.map((c) => `N=${c.N} reg=${c.reg}`).join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---').join('|')}|`);
  const refRs = results.get(ref) ?? [];
  for (const [kind, rs] of results) {
    const cells = cols.map(({ N, reg }) => {
      const r = rs.find((x) => x.N === N && x.reg === reg);
      if (!r || r.ms_per_step == null) return 'n/a';
      const ratio = kind === ref ? null : speedRatio(rs, refRs, N, reg);
      return `${fmtMs(r.ms_per_step)} (${r.timed_steps} st${ratio != null ? `, ${ratio.toPrecision(3)}x ${ref}` : ''})`;
    });
    console.log(`| ${kind} | ${cells.join(' | ')} |`);
  }
  for (const [kind, rs] of results) for (const r of rs) if (r.error) console.log(`- ${kind}: ${r.error}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
