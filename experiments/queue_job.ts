/**
 * The one job schema of the queue: what a job carries (a run and its protocol), its id, and the
 * validation every worker applies before anything runs. A worker trusts nothing in a job: names
 * are checked against the known fields, tasks, variants and modes, numbers against their
 * ranges, and the run directory is built only from the validated names.
 */
import { createHash } from 'node:crypto';
import { OptionError } from '../engine/errors.ts';
import { fields } from '../connectome/fields.ts';
import { getTask } from '../tasks/index.ts';
import { MAX_TRIALS, PAPER_PROTOCOL, resolveProtocol, type Mode, type Protocol } from './protocol.ts';
import { runKey, type RunSpec } from './record.ts';
import { syntheticGrid } from './setup.ts';
import { V1_FIELD } from './v1_field.ts';
import { getVariant } from './variants.ts';

const JOB_SCHEMA = 'cortical-rnn/job/1';

/** What a job carries: the run and the protocol, nothing else (the worker has its own paths). */
export interface RunJob {
  schema: typeof JOB_SCHEMA;
  spec: RunSpec;
  protocol: Protocol;
}

/** The job of a run under a protocol. */
export function runJob(spec: RunSpec, protocol: Protocol): RunJob {
  return { schema: JOB_SCHEMA, spec, protocol };
}

/**
 * The job id of a run: the run id made safe for BullMQ (no ':', and no '/' or '*' so it reads
 * as one token), plus the protocol's digest, so enqueuing a run twice is a no-op while the same
 * run under another protocol is another job.
 */
export function jobIdOf(spec: RunSpec, protocol: Protocol): string {
  const digest = createHash('sha256').update(JSON.stringify(protocol)).digest('hex').slice(0, 12);
  return `${runKey(spec)}.${digest}`;
}

/** Bounds a job's numbers are held to (far beyond any real protocol, short of absurd). */
const JOB_LIMITS = { epochs: 10_000, steps: 10_000_000, batchSize: 65_536, nNull: 100_000, nMatched: 10_000, lr: 10, lambda: 1000, mu: 1000, inputNoise: 10 };

/** A name in a spec (field, task, variant, mode) is a plain token, never a path. */
const NAME_PATTERN = '^[A-Za-z0-9_*!-]{1,64}$';
const SEED_MAX = 2 ** 31;

/**
 * The job's spec as JSON Schema: the API validates requests with it (and publishes it in its
 * OpenAPI document) before `validateJob` checks the names against the data and the tables.
 */
export const RUN_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['field', 'task', 'variant', 'seed', 'mode'],
  properties: {
    field: { type: 'string', pattern: NAME_PATTERN, description: 'an imaging field of the data directory (e.g. 6_6_2) or a grid-AxBxC' },
    task: { type: 'string', pattern: NAME_PATTERN, description: 'inference | gonogo | pdm, or any task name' },
    variant: { type: 'string', pattern: NAME_PATTERN, description: "the paper's variant name, e.g. W*D*C" },
    seed: { type: 'integer', minimum: 0, maximum: SEED_MAX },
    mode: { type: 'string', enum: ['paper', 'corrected'] },
    positive: { type: 'boolean', default: false },
    lambda: { type: 'number', minimum: 0, maximum: JOB_LIMITS.lambda, description: "this run's λ (default: the protocol's)" },
  },
} as const;

/** Protocol overrides as JSON Schema, with the job's bounds (the command line's flags, camelCased). */
export const PROTOCOL_OVERRIDES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    epochs: { type: 'integer', minimum: 1, maximum: JOB_LIMITS.epochs },
    steps: { type: 'integer', minimum: 1, maximum: JOB_LIMITS.steps },
    lr: { type: 'number', exclusiveMinimum: 0, maximum: JOB_LIMITS.lr },
    batchSize: { type: 'integer', minimum: 1, maximum: JOB_LIMITS.batchSize },
    trainTrials: { type: 'integer', minimum: 1, maximum: MAX_TRIALS },
    testTrials: { type: 'integer', minimum: 1, maximum: MAX_TRIALS },
    valTrials: { type: 'integer', minimum: 1, maximum: MAX_TRIALS },
    nNull: { type: 'integer', minimum: 1, maximum: JOB_LIMITS.nNull },
    nMatched: { type: 'integer', minimum: 1, maximum: JOB_LIMITS.nMatched },
    lambda: { type: 'number', minimum: 0, maximum: JOB_LIMITS.lambda },
    mu: { type: 'number', minimum: 0, maximum: JOB_LIMITS.mu },
  },
} as const;

const PROTOCOL_KEYS = Object.keys(PAPER_PROTOCOL).sort().join(',');
const SPEC_KEYS = ['field', 'mode', 'positive', 'seed', 'task', 'variant'].join(',');
const SPEC_KEYS_LAMBDA = ['field', 'lambda', 'mode', 'positive', 'seed', 'task', 'variant'].join(',');

function shown(x: unknown): string {
  const s = typeof x === 'string' ? `"${x}"` : JSON.stringify(x);
  return s === undefined ? 'nothing' : s.length > 80 ? s.slice(0, 77) + '…' : s;
}

function object(x: unknown, what: string): Record<string, unknown> {
  if (!x || typeof x !== 'object' || Array.isArray(x)) throw new OptionError(what, 'an object', shown(x));
  return x as Record<string, unknown>;
}

/**
 * A job's payload checked field by field (one-line error naming the field): the field must be
 * one of the data directory's, the task, variant and mode known, the seed an integer, the
 * protocol the shape of one with every number in range. Names are returned canonical.
 */
export function validateJob(data: unknown, dataDir: string): RunJob {
  const j = object(data, 'job');
  if (j.schema !== JOB_SCHEMA) throw new OptionError('job.schema', `"${JOB_SCHEMA}"`, shown(j.schema));
  const s = object(j.spec, 'job.spec');
  const keys = Object.keys(s).sort().join(',');
  if (keys !== SPEC_KEYS && keys !== SPEC_KEYS_LAMBDA)
    throw new OptionError('job.spec', `exactly the keys ${SPEC_KEYS} (and lambda, optionally)`, shown(Object.keys(s).join(',')));
  const name = (k: string): string => {
    const v = s[k];
    // Before any lookup: a name is a plain token, never a path.
    if (typeof v !== 'string' || !new RegExp(NAME_PATTERN).test(v))
      throw new OptionError(`job.spec.${k}`, "a name of letters, digits, '_', '-', '*' and '!'", shown(v));
    return v;
  };
  const field = name('field');
  // A synthetic grid (grid-AxBxC, checked by its own parser) or a field of the data directory.
  if (!syntheticGrid(field) && field !== V1_FIELD) {
    const known = fields(dataDir).map((f) => f.field);
    if (!known.includes(field))
      throw new OptionError('job.spec.field', `one of the ${known.length} fields of ${dataDir}, ${V1_FIELD}, or a grid-AxBxC`, shown(field));
  }
  const task = getTask(name('task'), 'job.spec.task').name;
  const variant = getVariant(name('variant'), 'job.spec.variant').name;
  const mode = name('mode');
  if (mode !== 'paper' && mode !== 'corrected') throw new OptionError('job.spec.mode', "'paper' or 'corrected'", shown(mode));
  const seed = s.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > SEED_MAX)
    throw new OptionError('job.spec.seed', 'an integer from 0 to 2^31', shown(seed));
  if (typeof s.positive !== 'boolean') throw new OptionError('job.spec.positive', 'true or false', shown(s.positive));
  const lambda = s.lambda;
  if (lambda !== undefined && (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0 || lambda > JOB_LIMITS.lambda))
    throw new OptionError('job.spec.lambda', `a number from 0 to ${JOB_LIMITS.lambda}`, shown(lambda));
  const spec: RunSpec = { field, task, variant, seed, mode: mode as Mode, positive: s.positive, ...(lambda !== undefined ? { lambda } : {}) };
  return { schema: JOB_SCHEMA, spec, protocol: validateProtocol(j.protocol) };
}

function validateProtocol(x: unknown): Protocol {
  const p = object(x, 'job.protocol');
  if (Object.keys(p).sort().join(',') !== PROTOCOL_KEYS)
    throw new OptionError('job.protocol', `exactly the keys ${PROTOCOL_KEYS}`, shown(Object.keys(p).join(',')));
  const splits = object(p.splits, 'job.protocol.splits');
  if (Object.keys(splits).sort().join(',') !== 'test,train,val')
    throw new OptionError('job.protocol.splits', 'exactly the keys test,train,val', shown(Object.keys(splits).join(',')));
  const num = (k: string, v: unknown, max: number, nullable = false): number | undefined => {
    if (nullable && v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new OptionError(`job.protocol.${k}`, 'a number', shown(v));
    if (v > max) throw new OptionError(`job.protocol.${k}`, `at most ${max.toLocaleString('en')}`, shown(v));
    return v;
  };
  let r: Protocol;
  try {
    // The command line's own checks (positive integers, trials within bounds, batch ≤ trials).
    r = resolveProtocol(PAPER_PROTOCOL, {
      epochs: num('epochs', p.epochs, JOB_LIMITS.epochs),
      steps: num('steps', p.steps, JOB_LIMITS.steps, true),
      lr: num('lr', p.lr, JOB_LIMITS.lr),
      batchSize: num('batchSize', p.batchSize, JOB_LIMITS.batchSize),
      trainTrials: num('splits.train', splits.train, Infinity),
      testTrials: num('splits.test', splits.test, Infinity),
      valTrials: num('splits.val', splits.val, Infinity),
      nNull: num('nNull', p.nNull, JOB_LIMITS.nNull),
      nMatched: num('nMatched', p.nMatched, JOB_LIMITS.nMatched),
      lambda: num('lambda', p.lambda, JOB_LIMITS.lambda),
      mu: num('mu', p.mu, JOB_LIMITS.mu),
    });
  } catch (e) {
    if (e instanceof OptionError && !e.option.startsWith('job.')) throw new OptionError(`job.protocol (${e.option.replace(/^--/, '')})`, e.expected, e.got);
    throw e;
  }
  if (p.steps === null) r.steps = null;
  const noise = num('inputNoise', p.inputNoise, JOB_LIMITS.inputNoise)!;
  if (noise < 0) throw new OptionError('job.protocol.inputNoise', 'a number ≥ 0', shown(noise));
  r.inputNoise = noise;
  return r;
}
