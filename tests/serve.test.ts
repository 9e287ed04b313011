/**
 * `cortical-rnn serve`: serves nothing outside its trees (every traversal spelling is a 404)
 * and, by default, listens on 127.0.0.1 only.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeSegments, startServer } from '../cli/serve/server.ts';

const DATA = resolve('../shared/data');

/** The status of a raw request line, sent byte for byte (no client-side normalisation). */
function rawStatus(port: number, target: string, host = '127.0.0.1'): Promise<number> {
  return new Promise((ok, fail) => {
    const s = connect(port, host);
    let buf = '';
    s.on('connect', () => s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => (buf += d.toString('latin1')));
    s.on('end', () => ok(Number(/^HTTP\/1\.1 (\d+)/.exec(buf)?.[1] ?? 0)));
    s.on('error', fail);
  });
}

describe('serve', () => {
  let server: FastifyInstance;
  let port: number;
  const root = mkdtempSync(join(tmpdir(), 'crnn-serve-'));
  beforeAll(async () => {
    const web = join(root, 'web');
    const results = join(root, 'results');
    mkdirSync(web);
    mkdirSync(join(results, 'real'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<p>workbench</p>');
    writeFileSync(join(results, 'real', 'final.json'), '{}');
    writeFileSync(join(root, 'secret.txt'), 'outside');
    symlinkSync('/etc', join(results, 'escape'));
    symlinkSync(join(root, 'secret.txt'), join(results, 'secret.txt'));
    symlinkSync(join(results, 'real'), join(results, 'inside'));
    server = await startServer({ webDir: web, dataDir: DATA, resultsDir: results, host: '127.0.0.1', port: 0 });
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  it('serves the workbench, the data and the results', async () => {
    expect(await rawStatus(port, '/')).toBe(200);
    expect(await rawStatus(port, '/data/microns-fields/fields.csv')).toBe(200);
    expect(await rawStatus(port, '/data/microns-fields/5_3_4/corr.npy')).toBe(200);
    expect(await rawStatus(port, '/results/real/final.json')).toBe(200);
    expect(await rawStatus(port, '/results/inside/final.json')).toBe(200); // a symlink that stays inside
    const listing = await fetch(`http://127.0.0.1:${port}/results/?recursive=1`).then((r) => r.json());
    expect(listing.entries.map((e: { name: string }) => e.name)).toEqual(['inside', 'real', 'real/final.json']);
  });

  it.each([
    '/data/../package.json',
    '/data/./microns-fields/fields.csv',
    '/data/%2e%2e/%2e%2e/etc/passwd',
    '/data/%2E%2E/%2E%2E/etc/passwd',
    '/data/..%2f..%2fetc%2fpasswd',
    '/data/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/data/%252e%252e/%252e%252e/etc/passwd',
    '/data/%25252e%25252e/etc/passwd',
    '/data/..\\..\\etc\\passwd',
    '/data/%5c..%5c..%5cetc%5cpasswd',
    '/data/microns-fields%00/fields.csv',
    '/data/microns-fields/fields.csv%00.png',
    '/data/%c0%ae%c0%ae/etc/passwd',
    '/data//etc/passwd',
    '//etc/passwd',
    '/etc/passwd',
    '/results/escape/passwd',
    '/results/secret.txt',
    '/results/.lock',
    '/results/../secret.txt',
    'http://127.0.0.1/etc/passwd',
    '/web/../../secret.txt',
  ])('refuses %s with 404', async (target) => {
    expect(await rawStatus(port, target)).toBe(404);
  });

  it('decodes each segment once and refuses what decodes to a separator or a dot segment', () => {
    expect(safeSegments('/data/microns-fields/5_3_4/neurons.csv')).toEqual(['data', 'microns-fields', '5_3_4', 'neurons.csv']);
    expect(safeSegments('/results/runs/W%2AD%2AC/')).toEqual(['results', 'runs', 'W*D*C']);
    for (const bad of ['/a/%2e%2e/b', '/a/..%2fb', '/a/%252e', '/a\\b', '/a/%00', '/a//b', 'a/b', '/a/%E0%A4%A', '/a/.hidden'])
      expect(safeSegments(bad), bad).toBeNull();
  });

  it.each([
    [['--port', 'abc'], /^cortical-rnn: --port: expected a TCP port in 0\.\.65535, got NaN\n$/],
    [['--port', '70000'], /^cortical-rnn: --port: expected a TCP port in 0\.\.65535, got 70000\n$/],
    [
      ['--host', '203.0.113.7', '--token', 'a-token-of-twenty-chars'],
      /^cortical-rnn: --host: expected an address of this machine, got "203\.0\.113\.7" \(EADDRNOTAVAIL\)\n$/,
    ],
    [
      ['--host', '203.0.113.7'],
      /^cortical-rnn: --token: expected a bearer token \(or CORTICAL_RNN_TOKEN\) to listen on 203\.0\.113\.7, which other machines can reach, got none\n$/,
    ],
    [['--token', 'short'], /^cortical-rnn: --token: expected a bearer token of at least 16 characters, got 5 characters\n$/],
    [['--results', '/nonexistent/results'], /^cortical-rnn: --results: expected a directory, got "\/nonexistent\/results" \(no such directory\)\n$/],
  ])('refuses bad flags in one line: %j', async (args, message) => {
    const child = spawn(process.execPath, ['bin/cortical-rnn.js', 'serve', '--data', DATA, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((ok) => child.on('exit', ok));
    expect(err).toMatch(message);
    expect(code).toBe(2);
  });

  it('listens on 127.0.0.1 only by default: the CLI prints that URL, and another interface is refused', async () => {
    const child = spawn(process.execPath, ['bin/cortical-rnn.js', 'serve', '--port', '0', '--data', DATA], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /workbench: (http:\/\/\S+)/.exec(out);
          if (m) ok(m[1]!);
        });
        child.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
      });
      const u = new URL(url);
      expect(u.hostname).toBe('127.0.0.1');
      expect(await rawStatus(Number(u.port), '/data/microns-fields/fields.csv')).toBe(200);
      const others = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address);
      for (const ip of others) await expect(rawStatus(Number(u.port), '/', ip)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
