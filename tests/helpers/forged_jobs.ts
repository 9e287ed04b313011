/**
 * Forged queue jobs, each with the one-line refusal expected: shared by the queue worker's tests
 * and the API's, which must refuse the same payloads.
 */
import type { Protocol } from '../../experiments/protocol.ts';
import type { RunSpec } from '../../experiments/record.ts';

/** Forged payloads: path traversal in every field, unknown names, absurd numbers. */
export function forgedJobs(run: RunSpec, protocol: Protocol): { what: string; data: unknown; error: RegExp }[] {
  const good = { schema: 'cortical-rnn/job/1', spec: { ...run }, protocol };
  const spec = (k: string, v: unknown) => ({ ...good, spec: { ...good.spec, [k]: v } });
  const proto = (k: string, v: unknown) => ({ ...good, protocol: { ...good.protocol, [k]: v } });
  return [
    ...['field', 'task', 'variant', 'mode'].map((k) => ({
      what: `../ in ${k}`,
      data: spec(k, '../../../escape'),
      error: new RegExp(`job\\.spec\\.${k}: expected a name`),
    })),
    { what: '.. as a field', data: spec('field', '..'), error: /job\.spec\.field: expected a name/ },
    { what: 'a path as seed', data: spec('seed', '../1'), error: /job\.spec\.seed: expected an integer/ },
    { what: 'a path as positive', data: spec('positive', '../x'), error: /job\.spec\.positive: expected true or false/ },
    { what: 'an extra key', data: { ...good, spec: { ...good.spec, dir: '../../x' } }, error: /job\.spec: expected exactly the keys/ },
    { what: 'an unknown field', data: spec('field', '9_9_9'), error: /job\.spec\.field: expected one of the \d+ fields/ },
    { what: 'an absurd grid', data: spec('field', 'grid-999x999x999'), error: /--field: expected a synthetic grid/ },
    { what: 'a negative λ', data: spec('lambda', -1), error: /job\.spec\.lambda: expected a number from 0 to 1000/ },
    { what: 'a path as λ', data: spec('lambda', '../x'), error: /job\.spec\.lambda: expected a number/ },
    { what: 'an unknown variant', data: spec('variant', 'W*X'), error: /job\.spec\.variant: expected one of W, / },
    { what: 'an unknown task', data: spec('task', 'maze'), error: /job\.spec\.task: expected one of / },
    { what: 'an unknown mode', data: spec('mode', 'fast'), error: /job\.spec\.mode: expected 'paper' or 'corrected'/ },
    { what: 'absurd epochs', data: proto('epochs', 1e12), error: /job\.protocol\.epochs: expected at most 10,000/ },
    { what: 'negative lr', data: proto('lr', -1), error: /job\.protocol \(lr\): expected a positive number/ },
    { what: 'absurd trials', data: proto('splits', { train: 1e9, test: 64, val: 64 }), error: /job\.protocol \(train-trials\): expected at most 1,000,000/ },
    { what: 'a string batch', data: proto('batchSize', '64; rm -rf /'), error: /job\.protocol\.batchSize: expected a number/ },
    { what: 'another schema', data: { ...good, schema: 'x' }, error: /job\.schema: expected "cortical-rnn\/job\/1"/ },
    { what: 'not an object', data: '../../etc/passwd', error: /job: expected an object/ },
  ];
}
