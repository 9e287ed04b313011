/**
 * Run by tests/subnormals.test.ts in a child process, with or without
 * scripts/flush-subnormals.sh: the adapter's subnormal mode as probed, and whether JavaScript
 * still keeps float64 subnormals on the main thread and in a worker thread. Prints one JSON line.
 */
import { Worker } from 'node:worker_threads';
import { GpuBackend } from '../../engine/gpu/backend.ts';
import { createNodeBackend } from '../../engine/node.ts';

// Number.MIN_VALUE (2^-1074) times a value read at run time, so nothing folds at compile time.
const keepsSubnormals = 'Number.MIN_VALUE * Number(process.argv.length > 0) > 0';
const be = await createNodeBackend({ requireGpu: true });
if (!(be instanceof GpuBackend)) throw new Error('no WebGPU adapter');
const worker = await new Promise<boolean>((resolve, reject) => {
  const w = new Worker(`require('node:worker_threads').parentPort.postMessage(${keepsSubnormals})`, { eval: true });
  w.once('message', resolve);
  w.once('error', reject);
});
const main = Number.MIN_VALUE * Number(process.argv.length > 0) > 0;
console.log(JSON.stringify({ adapter: be.describe(), subnormals: be.ctx.summary.subnormals, jsKeeps: { main, worker } }));
be.destroy();
