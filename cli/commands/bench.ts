import type { CommandModule } from 'yargs';
import { writeFile } from 'node:fs/promises';
import { benchMatmul, printMatmul } from '../../bench/matmul.ts';
import { environment, type BenchRecord } from '../../bench/harness.ts';
import { withBackend, withBackendOption, BACKEND_CHOICES } from '../common.ts';
import { benchSuites } from '../../bench/suites.ts';
import { PEER_KINDS, type PeerKind } from '../../bench/peers/run.ts';
import { OptionError } from '../../engine/errors.ts';

type Args = {
  suite: string;
  backend: (typeof BACKEND_CHOICES)[number];
  json?: boolean;
  out?: string;
  sizes?: string;
  ks?: string;
  quick?: boolean;
  workload?: string;
  peers?: string;
  python?: string;
};

export const command: CommandModule<object, Args> = {
  command: 'bench [suite]',
  describe: `Run a benchmark suite (${['matmul', ...Object.keys(benchSuites)].join(', ')}, all)`,
  builder: (y) =>
    withBackendOption(y)
      .positional('suite', { type: 'string', default: 'all', describe: 'which suite' })
      .option('json', { type: 'boolean', describe: 'print machine-readable JSON records instead of tables' })
      .option('out', { type: 'string', describe: 'also write the JSON records to this file' })
      .option('sizes', { type: 'string', describe: 'comma-separated sizes (suite-specific)' })
      .option('ks', { type: 'string', describe: 'bench multi, host: comma-separated numbers of networks side by side' })
      .option('quick', { type: 'boolean', describe: 'shorter runs' })
      .option('workload', {
        type: 'string',
        describe: 'bench profile: canonical, canonical-100 or paper; bench peers: canonical (default) or paper (the default under bench all)',
      })
      .option('peers', {
        type: 'string',
        describe: `bench peers: comma-separated peers (${PEER_KINDS.join(', ')}); default torch-cpu and the tfjs ones; torch-cuda on GPU machines`,
      })
      .option('python', { type: 'string', describe: 'bench peers: the Python interpreter that holds PyTorch (default /usr/bin/python3)' }),
  handler: async (args) => {
    // 'all' runs every suite, the peers' on the paper workload unless --workload names a canonical one.
    const names = args.suite === 'all' ? ['matmul', ...Object.keys(benchSuites)] : [args.suite];
    const workloadOf = (suite: string) => (suite === 'peers' && args.suite === 'all' && !args.workload?.startsWith('canonical') ? 'paper' : args.workload);
    for (const n of names)
      if (n !== 'matmul' && !(n in benchSuites)) throw new Error(`unknown bench suite '${n}'; choose from matmul, ${Object.keys(benchSuites).join(', ')}, all`);
    const sizes = args.sizes?.split(',').map(Number);
    const ks = args.ks?.split(',').map(Number);
    if (ks?.some((k) => !Number.isInteger(k) || k < 1)) throw new OptionError('--ks', 'comma-separated positive integers', args.ks!);
    const peers = args.peers?.split(',').map((p) => p.trim());
    const unknown = peers?.find((p) => !(PEER_KINDS as readonly string[]).includes(p));
    if (unknown !== undefined) throw new OptionError('--peers', `a comma-separated list of ${PEER_KINDS.join(', ')}`, unknown);
    await withBackend(args, async (backend) => {
      const env = environment(backend);
      const all: BenchRecord[] = [];
      if (!args.json) console.log(`adapter: ${backend.describe()}`);
      for (const name of names) {
        let records: BenchRecord[];
        if (name === 'matmul') {
          records = await benchMatmul(backend, { sizes });
          if (!args.json) printMatmul(records);
        } else {
          records = await benchSuites[name]!.run(backend, {
            sizes,
            ks,
            quick: args.quick,
            json: args.json,
            workload: workloadOf(name),
            peers: peers as PeerKind[] | undefined,
            python: args.python,
          });
        }
        all.push(...records);
      }
      const out = all.map((r) => ({ ...env, ...r }));
      if (args.json) console.log(JSON.stringify(out, null, 2));
      if (args.out) await writeFile(args.out, `${JSON.stringify(out, null, 2)}\n`);
    });
  },
};
