/**
 * The API's contract: the request schemas Fastify validates with (built from the queue's job
 * schema, experiments/queue_job.ts) and the OpenAPI 3.1 document served at
 * /api/v1/openapi.json and committed as docs/api/openapi.json.
 */
import { PROTOCOL_OVERRIDES_SCHEMA, RUN_SPEC_SCHEMA } from '../../experiments/queue_job.ts';
import type { ProtocolOverrides } from '../../experiments/protocol.ts';

const PRESET = {
  type: 'string',
  enum: ['paper', 'quick'],
  default: 'paper',
  description: "the protocol the overrides start from: the paper's, or the quick preset's",
} as const;
const NAME = RUN_SPEC_SCHEMA.properties.task;
const MAX_LIST = 64;

export const RUN_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['spec'],
  properties: { spec: RUN_SPEC_SCHEMA, preset: PRESET, protocol: PROTOCOL_OVERRIDES_SCHEMA },
} as const;

export const SWEEP_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['field', 'tasks', 'variants'],
  properties: {
    field: RUN_SPEC_SCHEMA.properties.field,
    tasks: { type: 'array', items: NAME, minItems: 1, maxItems: MAX_LIST },
    variants: { type: 'array', items: RUN_SPEC_SCHEMA.properties.variant, minItems: 1, maxItems: MAX_LIST },
    seeds: { type: 'integer', minimum: 1, maximum: 1000, default: 1, description: 'how many seeds' },
    seedStart: { type: 'integer', minimum: 0, maximum: RUN_SPEC_SCHEMA.properties.seed.maximum, default: 1 },
    mode: { type: 'string', enum: ['paper', 'corrected', 'both'], default: 'corrected' },
    positive: { type: 'boolean', default: false },
    lambdas: { type: 'array', items: RUN_SPEC_SCHEMA.properties.lambda, minItems: 1, maxItems: MAX_LIST, description: 'a run per λ for every variant' },
    preset: PRESET,
    protocol: PROTOCOL_OVERRIDES_SCHEMA,
  },
} as const;

export interface RunRequest {
  spec: { field: string; task: string; variant: string; seed: number; mode: 'paper' | 'corrected'; positive?: boolean; lambda?: number };
  preset?: 'paper' | 'quick';
  protocol?: ProtocolOverrides;
}

export interface SweepRequest {
  field: string;
  tasks: string[];
  variants: string[];
  seeds?: number;
  seedStart?: number;
  mode?: 'paper' | 'corrected' | 'both';
  positive?: boolean;
  lambdas?: number[];
  preset?: 'paper' | 'quick';
  protocol?: ProtocolOverrides;
}

const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const ERROR = json({ type: 'object', properties: { error: { type: 'string' } }, required: ['error'] }, 'a one-line error');
const errors = { '400': ERROR, '401': ERROR, '404': ERROR };
const SUBMISSION = {
  type: 'object',
  properties: {
    submission: { type: 'string' },
    kind: { type: 'string', enum: ['run', 'sweep'] },
    status: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
    error: { type: ['string', 'null'] },
    runs: { type: 'array', items: { type: 'string' }, description: 'run keys' },
    createdAt: { type: 'string' },
    events: { type: 'string', description: 'the URL of its event stream' },
  },
};
const EVENTS = {
  description:
    'Server-Sent Events: queued, started, run-started, step {run, step, totalSteps, epoch, loss, ce, reg, eta_s}, epoch {run, epoch, step, meanLoss, meanCe, meanReg, trainAccuracy, evalAccuracy, seconds}, run-done {run, status, accuracy, divergence}, run-skipped, log {line}, and last one of done, failed {error} or cancelled. Send Last-Event-ID (or ?lastEventId=) to resume after an id.',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
};
const key = { name: 'key', in: 'path', required: true, schema: { type: 'string' }, description: 'a run key, e.g. corrected.5_3_4.gonogo.WsDsC.seed-1' };
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const op = (summary: string, responses: object, extra: object = {}) => ({ summary, responses: { ...responses, ...errors }, ...extra });

/** The OpenAPI 3.1 document of /api/v1. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'cortical-rnn API', version: '1' },
    servers: [{ url: '/api/v1' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      '/info': { get: op('the engine: adapter, code version, data and results directories, limits', { '200': json({ type: 'object' }, 'engine info') }) },
      '/runs': {
        get: op('every run the server knows, with its status', { '200': json({ type: 'object' }, '{ runs: [{ key, id, status, submission }] }') }),
        post: op(
          'submit one run',
          { '202': json(SUBMISSION, 'queued'), '429': ERROR },
          { requestBody: { required: true, content: { 'application/json': { schema: RUN_REQUEST_SCHEMA } } } },
        ),
      },
      '/sweeps': {
        post: op(
          'submit a sweep',
          { '202': json(SUBMISSION, 'queued'), '429': ERROR },
          { requestBody: { required: true, content: { 'application/json': { schema: SWEEP_REQUEST_SCHEMA } } } },
        ),
      },
      '/submissions/{id}': {
        get: op('a submission', { '200': json(SUBMISSION, 'its status') }, { parameters: [id] }),
        delete: op('cancel a submission (queued: at once; running: at its next step)', { '200': json(SUBMISSION, 'its status') }, { parameters: [id] }),
      },
      '/submissions/{id}/events': { get: op("a submission's progress", { '200': EVENTS }, { parameters: [id] }) },
      '/runs/{key}': {
        get: op("a finished run's final.json", { '200': json({ type: 'object' }, 'the record (docs/run-files.md)'), '409': ERROR }, { parameters: [key] }),
        delete: op('cancel the submission that holds the run', { '200': json(SUBMISSION, 'its status'), '409': ERROR }, { parameters: [key] }),
      },
      '/runs/{key}/events': { get: op("a run's progress (and its submission's end)", { '200': EVENTS, '409': ERROR }, { parameters: [key] }) },
      '/runs/{key}/metrics.csv': {
        get: op("a run's metrics.csv", { '200': { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } } }, { parameters: [key] }),
      },
      '/runs/{key}/weights': {
        get: op(
          "a run's weight files",
          { '200': json({ type: 'object', properties: { files: { type: 'array', items: { type: 'string' } } } }, 'names') },
          { parameters: [key] },
        ),
      },
      '/runs/{key}/weights/{name}': {
        get: op(
          'one weight file as .npy (float32)',
          {
            '200': {
              description: '.npy bytes',
              content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
            },
          },
          { parameters: [key, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }] },
        ),
      },
      '/report': {
        get: op(
          "the report (report.json) of a folder of the server's results directory",
          { '200': json({ type: 'object' }, 'the report') },
          {
            parameters: [{ name: 'dir', in: 'query', schema: { type: 'string', default: '' } }],
          },
        ),
      },
      '/openapi.json': { get: { summary: 'this document', security: [], responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1') } } },
    },
  };
}
