/**
 * Train live on the server: the workbench submits the run through the HTTP API (/api/v1) of the
 * `cortical-rnn serve` that served it, and drives the same live view from the run's event
 * stream, fetching each epoch's W_rec as the server writes it. The run lands in the server's
 * results directory.
 */
import type { EpochInfo, StepInfo } from '../engine/index.ts';
import { parseNpy, toFloat64 } from '../connectome/npy.ts';
import { QUICK_PRESET, type Protocol } from '../experiments/protocol.ts';
import type { RunObserver } from '../experiments/lifecycle.ts';
import type { FinalRecord, RunSpec } from '../experiments/record.ts';

const API = '/api/v1';
const TOKEN_KEY = 'cortical-rnn-token';

/** The API's bearer token, kept for this tab only (sessionStorage), or none. */
let token: string | null = sessionStorage.getItem(TOKEN_KEY);

/** Sets (or, empty, clears) the token sent with every API request of this page. */
export function setServerToken(t: string): void {
  token = t.trim() || null;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** fetch, with the bearer token when one is set. */
function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${API}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });
}

/** The server's engine, or why the workbench cannot train there (no API, or a token it lacks). */
export async function serverEngine(): Promise<{ engine: string } | { why: string; needsToken?: boolean }> {
  try {
    const res = await api('/info');
    if (res.status === 401)
      return {
        why: token ? "the server refused this token (serve --token's)" : "the server's API needs its bearer token (serve --token): enter it",
        needsToken: true,
      };
    if (!res.ok) return { why: 'this server has no API (start it with --results DIR)' };
    return { engine: String(((await res.json()) as { backend?: unknown }).backend) };
  } catch {
    return { why: 'no server answers' };
  }
}

/** The API's JSON answer, or its one-line error thrown. */
async function json<T>(res: Promise<Response>): Promise<T> {
  const r = await res;
  const body = (await r.json()) as T & { error?: string };
  if (!r.ok) throw new Error(body.error ?? `HTTP ${r.status}`);
  return body;
}

async function weights(key: string, name: string): Promise<Float64Array> {
  const r = await api(`/runs/${encodeURIComponent(key)}/weights/${encodeURIComponent(name)}`);
  if (!r.ok) throw new Error(`${name}: expected the run's weights from the server, got HTTP ${r.status}`);
  return toFloat64(parseNpy(new Uint8Array(await r.arrayBuffer()), name));
}

/** The events of a stream, parsed as they arrive (the server ends it after the last). */
async function* events(path: string): AsyncGenerator<{ event: string; data: Record<string, unknown> }> {
  const url = `${API}${path}`;
  const res = await api(path);
  if (!res.ok || !res.body) throw new Error(`${url}: expected an event stream, got HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buf += value;
    const blocks = buf.split('\n\n');
    buf = blocks.pop()!;
    for (const b of blocks) {
      const event = /^event: (.*)$/m.exec(b)?.[1];
      const data = /^data: (.*)$/m.exec(b)?.[1];
      if (event && data) yield { event, data: JSON.parse(data) as Record<string, unknown> };
    }
  }
}

/**
 * The form's protocol as the API's request: the quick preset with every knob as an override.
 * Input noise is not a knob of the API (nor of the command line): it must stay the preset's.
 */
function requestOf(spec: RunSpec, p: Protocol): unknown {
  if (p.inputNoise !== QUICK_PRESET.protocol.inputNoise)
    throw new Error(
      `input noise σ: expected the preset's ${QUICK_PRESET.protocol.inputNoise} on the server (it is set in the browser only), got ${p.inputNoise}`,
    );
  const { field, task, variant, seed, mode, positive } = spec;
  const { epochs, lr, batchSize, lambda, mu, nNull, nMatched } = p;
  const protocol = {
    epochs,
    lr,
    batchSize,
    lambda,
    mu,
    nNull,
    nMatched,
    trainTrials: p.splits.train,
    testTrials: p.splits.test,
    valTrials: p.splits.val,
    ...(p.steps ? { steps: p.steps } : {}),
  };
  return { spec: { field, task, variant, seed, mode, positive }, preset: 'quick', protocol };
}

/**
 * Trains `spec` on the server, calling `observer` as the browser's own training would; its
 * onStep may stop the run by throwing, which cancels it on the server too.
 */
export async function trainOnServer(spec: RunSpec, protocol: Protocol, observer: RunObserver): Promise<void> {
  const body = JSON.stringify(requestOf(spec, protocol));
  const sub = await json<{ submission: string; runs: string[] }>(api('/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
  const key = sub.runs[0]!;
  const finish = async () => {
    const rec = await json<FinalRecord>(api(`/runs/${encodeURIComponent(key)}`));
    observer.onFinish?.(rec, rec.status === 'ok' ? await weights(key, 'params_final/W_rec.npy') : null);
  };
  try {
    for await (const e of events(`/submissions/${sub.submission}/events`)) {
      if (e.event === 'run-started') observer.onStart?.(await weights(key, 'W_rec_init.npy'));
      else if (e.event === 'step') await observer.onStep?.(e.data as unknown as StepInfo);
      else if (e.event === 'epoch') {
        const info = e.data as unknown as EpochInfo;
        observer.onEpoch?.(info, await weights(key, `W_rec_epoch${String(info.epoch).padStart(2, '0')}.npy`));
      } else if (e.event === 'run-done') observer.onTrained?.();
      else if (e.event === 'done' || e.event === 'run-skipped') return await finish();
      else if (e.event === 'failed') throw new Error(`the server: ${String(e.data.error)}`);
      else if (e.event === 'cancelled') throw new Error('the server cancelled the run');
    }
    throw new Error("the server's event stream ended before the run did");
  } catch (e) {
    await api(`/submissions/${sub.submission}`, { method: 'DELETE' }).catch(() => {});
    throw e;
  }
}
