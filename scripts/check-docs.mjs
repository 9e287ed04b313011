#!/usr/bin/env node
// Holds the documentation (README.md and docs/**/*.md) against the repository. Fails, with one
// line per problem (FILE:LINE: what is wrong) and exit status 1, when
//  (a) a link or a repository path names nothing that exists:
//      - relative links: [text](target), ![alt](src), [id]: target, <a href>/<img src>, outside
//        code; URLs (scheme:…) and anchor-only links (#…) are skipped, and a #fragment is not
//        checked. A target is resolved against the file's folder (a leading / against the root);
//      - backquoted repository paths, inline or in fenced code blocks: a token that starts with
//        one of the repository's top-level folders and a '/' (the folders on disk, minus .git and
//        what .gitignore names, such as dist/ and results/, which are build or run outputs), or
//        with ./ or ../ (resolved against the file's folder, and checked while it stays inside
//        the repository). A placeholder ('<…>', '…', '$', '{', '[', '|') ends the check at the
//        literal folders before it; a segment with '*' or '?' must match at least one entry;
//      - ../shared/… (the data, fixtures and peers beside the repository) is resolved against the
//        repository's parent and checked only when ../shared exists there; skipped otherwise;
//  (b) a --flag in a `cortical-rnn <verb> …` command line (fenced code or backquotes; also a
//      backquoted span that starts with a verb, such as `sweep --lambdas 0.01,0.1`) is not listed
//      by `node bin/cortical-rnn.js <verb> --help`, or <verb> is not a command. A command line
//      ends at a shell comment (#), &&, ||, ; or |, and continues over a trailing backslash or a
//      next line that starts with --. After a bare --, the flags of `slurm` are those of `sweep`
//      and `worker` (what slurm passes on); other verbs' flags after -- are not checked.
// The help is collected once per run, in two processes side by side: `node bin/cortical-rnn.js
// --help` (the verbs and the global options) and one that renders every verb's help with yargs
// from its command module (cli/commands/index.ts, which cli/main.ts registers as they are): the
// options `cortical-rnn <verb> --help` lists are exactly those two sets. A verb that process does
// not give is asked `node bin/cortical-rnn.js <verb> --help` by itself; --spawn asks every verb
// that way (slower: a process per verb). The result is cached in node_modules/.cache/check-docs/
// under a digest of where the options are defined (bin/, cli/, experiments/, package.json, the
// lockfile, node's version), so an unchanged CLI starts no process; --no-cache ignores it.
// --verbose lists every link, path and flag checked. When all is well, prints one line:
//   check-docs: N files, M links, K flags checked
// where M counts the relative links and the repository paths.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const shared = resolve(root, '..', 'shared');
const hasShared = existsSync(shared);
const spawnEach = process.argv.includes('--spawn');
const useCache = !spawnEach && !process.argv.includes('--no-cache');
const verbose = process.argv.includes('--verbose');
const log = (line) => verbose && console.log(line);
const problems = [];
let nLinks = 0;
let nFlags = 0;

// ---- the files ----

const docs = ['README.md'];
(function walk(d) {
  for (const e of readdirSync(join(root, d)).sort()) {
    const rel = join(d, e);
    if (statSync(join(root, rel)).isDirectory()) walk(rel);
    else if (e.endsWith('.md')) docs.push(rel);
  }
})('docs');

// Top-level folders a repository path may start with: those on disk, minus .git and plain names
// that .gitignore lists (dist/, results/, node_modules/, …).
const ignored = new Set(
  readFileSync(join(root, '.gitignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!') && !/[*?[]/.test(l))
    .map((l) => l.replace(/^\//, '').replace(/\/$/, '')),
);
const topFolders = new Set(readdirSync(root).filter((e) => e !== '.git' && !ignored.has(e) && statSync(join(root, e)).isDirectory()));

// ---- markdown: fenced code, inline code, the rest ----

/** Line starts of a text, for offset → line number. */
function lineIndex(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** Splits a markdown file into fenced code blocks (with their lines) and the prose around them (code blanked out). */
function parse(text) {
  const lines = text.split('\n');
  const blocks = [];
  const prose = [];
  let fence = null;
  lines.forEach((line, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (m && m[1][0] === fence.mark[0] && m[1].length >= fence.mark.length && line.trim() === m[1]) fence = null;
      else fence.lines.push({ text: line, line: i + 1 });
      prose.push('');
    } else if (m) {
      fence = { mark: m[1], lines: [] };
      blocks.push(fence);
      prose.push('');
    } else prose.push(line);
  });
  const proseText = prose.join('\n');
  // Inline code spans: a run of n backticks up to the next run of exactly n, within a paragraph.
  const spans = [];
  let masked = '';
  let i = 0;
  while (i < proseText.length) {
    if (proseText[i] !== '`') {
      masked += proseText[i++];
      continue;
    }
    let n = 0;
    while (proseText[i + n] === '`') n++;
    const close = new RegExp(`(?<!\`)\`{${n}}(?!\`)`, 'g');
    close.lastIndex = i + n;
    const c = close.exec(proseText);
    const body = c ? proseText.slice(i + n, c.index) : null;
    if (!c || /\n\s*\n/.test(body)) {
      masked += proseText.slice(i, i + n);
      i += n;
      continue;
    }
    spans.push({ text: body, offset: i + n });
    masked += proseText.slice(i, c.index + n).replace(/[^\n]/g, ' ');
    i = c.index + n;
  }
  return { blocks, spans, masked, lineOf: lineIndex(proseText) };
}

// ---- (a) links and repository paths ----

const inside = (p) => p === root || p.startsWith(root + sep);

/** Whether a path with placeholders or globs names something: its literal folders exist, a glob segment matches. */
function pathExists(abs, base) {
  const segs = relative(base, abs).split(sep);
  let dir = base;
  for (let k = 0; k < segs.length; k++) {
    const s = segs[k];
    if (s === '') continue;
    if (/[<>…${}[\]|]/.test(s) || s === '...') return true;
    if (/[*?]/.test(s)) {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
      const re = new RegExp(
        `^${s
          .replace(/[.+^()\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
      const hits = readdirSync(dir).filter((e) => re.test(e));
      // A glob in the last segment must match; one in the middle must match a folder (the rest is not followed).
      return k === segs.length - 1 ? hits.length > 0 : hits.some((e) => statSync(join(dir, e)).isDirectory());
    }
    dir = join(dir, s);
    if (!existsSync(dir)) return false;
  }
  return true;
}

function checkTarget(file, line, target, what) {
  let abs;
  if (target.startsWith('../shared/') || target === '../shared') {
    if (!hasShared) return;
    abs = resolve(root, target);
    nLinks++;
    log(`${file}:${line}: ${what} ${target}`);
    if (!pathExists(abs, resolve(root, '..'))) problems.push(`${file}:${line}: ${what} ${target}: no such file or folder in ${relative(root, shared)}`);
    return;
  }
  abs = target.startsWith('/') ? join(root, target) : resolve(root, dirname(file), target);
  if (!inside(abs)) {
    if (!abs.startsWith(shared + sep) || !hasShared) return;
    nLinks++;
    log(`${file}:${line}: ${what} ${target}`);
    if (!pathExists(abs, resolve(root, '..'))) problems.push(`${file}:${line}: ${what} ${target}: no such file or folder`);
    return;
  }
  nLinks++;
  log(`${file}:${line}: ${what} ${target}`);
  if (!pathExists(abs, root)) problems.push(`${file}:${line}: ${what} ${target}: no such file or folder`);
}

function checkLinks(file, masked, lineOf) {
  const targets = [];
  for (const m of masked.matchAll(/!?\[(?:[^\]\n]|\n(?!\s*\n))*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push({ t: m[1], at: m.index });
  for (const m of masked.matchAll(/^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push({ t: m[1], at: m.index });
  for (const m of masked.matchAll(/<(?:a|img)\b[^>]*?\b(?:href|src)="([^"]+)"/g)) targets.push({ t: m[1], at: m.index });
  for (const { t, at } of targets) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(t) || t.startsWith('#')) continue;
    let path = t.replace(/[#?].*$/, '');
    try {
      path = decodeURIComponent(path);
    } catch {
      // keep it as written
    }
    checkTarget(file, lineOf(at), path, 'link');
  }
}

/** Repository paths among the tokens of a piece of code. */
function checkPaths(file, text, lineOf, offset) {
  for (const m of text.matchAll(/[^\s'"`()=]+/g)) {
    let tok = m[0].replace(/[.,;:!?]+$/, '');
    if (tok.endsWith(']') && !tok.includes('[')) tok = tok.slice(0, -1).replace(/[.,;:!?]+$/, '');
    if (tok.startsWith('./')) tok = tok.slice(2);
    const top = tok.split('/')[0];
    const isRepo = tok.includes('/') && topFolders.has(top);
    const isRelative = tok.startsWith('../') && !/^\.\.\/shared(\/|$)/.test(tok);
    const isShared = /^\.\.\/shared\//.test(tok);
    if (!isRepo && !isRelative && !isShared) continue;
    const line = lineOf(offset + m.index);
    if (isRepo) {
      nLinks++;
      log(`${file}:${line}: path ${tok}`);
      if (!pathExists(join(root, tok), root)) problems.push(`${file}:${line}: path ${tok}: no such file or folder`);
    } else if (isShared) checkTarget(file, line, tok, 'path');
    else {
      const abs = resolve(root, dirname(file), tok);
      if (!inside(abs)) continue;
      nLinks++;
      log(`${file}:${line}: path ${tok}`);
      if (!pathExists(abs, root)) problems.push(`${file}:${line}: path ${tok}: no such file or folder`);
    }
  }
}

// ---- (b) command lines ----

/** Command-line segments: for each flag, the verb whose help must list it. */
function commandFlags(text, lineOf, offset, ctx, verbs, startsWithVerb) {
  const uses = [];
  if (startsWithVerb) {
    const first = /^\s*([a-z][\w-]*)\s/.exec(text);
    if (first && verbs.has(first[1]) && /(^|\s)--[A-Za-z]/.test(text)) ctx = { verb: first[1], awaitVerb: false, after: false };
  }
  for (const m of text.matchAll(/\S+/g)) {
    const tok = m[0];
    const line = lineOf(offset + m.index);
    if (tok === 'cortical-rnn' || /(^|\/)cortical-rnn(\.js)?$/.test(tok)) {
      ctx = { verb: null, awaitVerb: true, after: false };
      continue;
    }
    if (!ctx) continue;
    if (tok.startsWith('#') || ['&&', '||', '|', ';'].includes(tok)) {
      ctx = null;
      continue;
    }
    if (ctx.awaitVerb) {
      ctx.awaitVerb = false;
      if (/^[a-z][\w-]*$/.test(tok)) {
        ctx.verb = tok;
        uses.push({ verb: tok, line, kind: 'verb' });
        continue;
      }
      if (!tok.startsWith('-')) {
        ctx = null;
        continue;
      }
    }
    if (tok === '--') {
      ctx.after = true;
      continue;
    }
    const f = /^[[(]*--([A-Za-z][\w-]*)/.exec(tok);
    if (f) uses.push({ verb: ctx.verb, after: ctx.after, flag: f[1], line });
    if (/;$/.test(tok)) ctx = null;
  }
  return { uses, ctx };
}

// ---- the CLI's help ----

const bin = join(root, 'bin', 'cortical-rnn.js');

const flagsOf = (text) => [...text.matchAll(/^\s+(?:-\w,\s+)?--([A-Za-z][\w-]*)/gm)].map((m) => m[1]);

function sourceDigest() {
  const h = createHash('sha256');
  h.update(process.version);
  const files = ['package.json', 'package-lock.json'];
  const walk = (d) => {
    for (const e of readdirSync(join(root, d)).sort()) {
      const rel = join(d, e);
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|js|mjs|json)$/.test(e)) files.push(rel);
    }
  };
  for (const d of ['bin', 'cli', 'experiments']) if (existsSync(join(root, d))) walk(d);
  for (const f of files)
    if (existsSync(join(root, f)))
      h.update(`${f}\0`)
        .update(readFileSync(join(root, f)))
        .update('\0');
  return h.digest('hex');
}

const cacheFile = join(root, 'node_modules', '.cache', 'check-docs', 'help.json');

// Renders each command module's help with yargs in one process: the options cli/main.ts gives a
// verb are the global ones (in the top-level help) and its command module's (cli/commands/).
const ONE_PROCESS = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
const root = process.env.CHECK_DOCS_ROOT;
const req = createRequire(join(root, 'package.json'));
const { register } = await import(pathToFileURL(req.resolve('tsx/esm/api')).href);
register();
const { commands } = await import(pathToFileURL(join(root, 'cli', 'commands', 'index.ts')).href);
const { default: yargs } = await import(pathToFileURL(req.resolve('yargs')).href);
const out = {};
for (const c of commands) {
  const name = String(Array.isArray(c.command) ? c.command[0] : c.command).split(/\\s+/)[0];
  out[name] = await new Promise((done) =>
    yargs().scriptName('cortical-rnn').command(c).help().exitProcess(false).wrap(null).parse([name, '--help'], (err, argv, output) => done(output)),
  );
}
process.stdout.write(JSON.stringify(out), () => process.exit(0));
`;

function run(args, env = {}) {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => done({ code, out, err }));
  });
}
// CORTICAL_RNN_FILTERED=1: the CLI itself, without the process that filters Dawn's warnings.
const help = (args) => run([bin, ...args, '--help'], { CORTICAL_RNN_FILTERED: '1' });

async function collectHelp(candidates) {
  const key = sourceDigest();
  let cache = { key, top: null, verbs: {} };
  if (useCache && existsSync(cacheFile)) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, 'utf8'));
      if (c.key === key) cache = c;
    } catch {
      // rebuild it
    }
  }
  const failed = (args, r) => `node bin/cortical-rnn.js ${args ? `${args} ` : ''}--help failed (exit ${r.code}): ${r.err.trim().split('\n')[0]}`;
  const wanted = () => [...candidates].filter((v) => cache.top.verbs.includes(v) && !cache.verbs[v]);
  let changed = false;
  if (!cache.top || (wanted().length && !spawnEach)) {
    const [top, modules] = await Promise.all([
      cache.top ? null : help([]),
      spawnEach ? null : run(['--input-type=module', '-e', ONE_PROCESS], { CHECK_DOCS_ROOT: root }),
    ]);
    if (top) {
      if (top.code !== 0) throw new Error(failed('', top));
      cache.top = {
        verbs: [...top.out.matchAll(/^\s+cortical-rnn ([a-z][\w-]*)/gm)].map((m) => m[1]),
        flags: flagsOf(top.out.slice(top.out.indexOf('Options:'))),
      };
    }
    let texts = {};
    try {
      if (modules?.code === 0) texts = JSON.parse(modules.out);
    } catch {
      // each verb by itself below
    }
    for (const v of wanted()) if (typeof texts[v] === 'string' && texts[v].includes(`cortical-rnn ${v}`)) cache.verbs[v] = flagsOf(texts[v]);
    changed = true;
  }
  // What the one process could not give (or all of it, with --spawn): `cortical-rnn <verb> --help`, side by side.
  const todo = wanted();
  const failures = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(Math.max(2, cpus().length), todo.length) }, async () => {
      while (next < todo.length) {
        const v = todo[next++];
        const r = await help([v]);
        if (r.code !== 0) failures.push(failed(v, r));
        else cache.verbs[v] = flagsOf(r.out);
      }
    }),
  );
  if (failures.length) throw new Error(failures.join('\n'));
  if ((changed || todo.length) && !spawnEach) {
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      writeFileSync(cacheFile, JSON.stringify(cache));
    } catch {
      // a read-only tree: no cache, same result
    }
  }
  return { verbs: new Set(cache.top.verbs), top: new Set(cache.top.flags), byVerb: cache.verbs };
}

// ---- run ----

const parsed = docs.map((file) => ({ file, ...parse(readFileSync(join(root, file), 'utf8')) }));

for (const { file, blocks, spans, masked, lineOf } of parsed) {
  checkLinks(file, masked, lineOf);
  for (const s of spans) checkPaths(file, s.text, lineOf, s.offset);
  for (const b of blocks) for (const l of b.lines) checkPaths(file, l.text, () => l.line, 0);
}

// Verbs are known only from the help; a first pass with every lower-case word after cortical-rnn
// as a candidate finds which verbs' help is needed.
const candidates = new Set();
function commandsOf(verbs) {
  const uses = [];
  for (const { file, blocks, spans, lineOf } of parsed) {
    for (const s of spans) for (const u of commandFlags(s.text, lineOf, s.offset, null, verbs, true).uses) uses.push({ file, ...u });
    for (const b of blocks) {
      let ctx = null;
      let prevContinues = false;
      for (const l of b.lines) {
        const carry = prevContinues || /^\s*--[A-Za-z]/.test(l.text) ? ctx : null;
        const r = commandFlags(l.text, () => l.line, 0, carry, verbs, false);
        for (const u of r.uses) uses.push({ file, ...u });
        ctx = r.ctx;
        prevContinues = /\\\s*$/.test(l.text);
      }
    }
  }
  return uses;
}
for (const u of commandsOf(new Set())) if (u.kind === 'verb') candidates.add(u.verb);
for (const { spans } of parsed) {
  for (const s of spans) {
    const first = /^\s*([a-z][\w-]*)\s/.exec(s.text);
    if (first && /(^|\s)--[A-Za-z]/.test(s.text)) candidates.add(first[1]);
  }
}

let cli;
try {
  cli = await collectHelp(candidates);
} catch (e) {
  console.error(`check-docs: ${e.message}`);
  process.exit(1);
}
for (const u of commandsOf(cli.verbs)) {
  if (u.kind === 'verb') {
    if (!cli.verbs.has(u.verb))
      problems.push(`${u.file}:${u.line}: cortical-rnn ${u.verb}: no such command (cortical-rnn --help lists ${[...cli.verbs].join(', ')})`);
    continue;
  }
  if (u.verb && !cli.verbs.has(u.verb)) continue; // reported as an unknown command
  if (u.after && u.verb !== 'slurm') continue; // passed on to something else
  nFlags++;
  log(`${u.file}:${u.line}: flag --${u.flag} of cortical-rnn ${u.verb ?? ''}${u.after ? ' (after --)' : ''}`);
  const base = u.flag.replace(/^no-/, '');
  const listed = (name) => {
    if (!u.verb) return cli.top.has(name);
    if (u.after) return ['sweep', 'worker'].some((v) => cli.byVerb[v]?.includes(name)) || cli.top.has(name);
    return cli.byVerb[u.verb].includes(name) || cli.top.has(name);
  };
  if (!listed(u.flag) && !listed(base)) {
    const where = !u.verb ? 'cortical-rnn --help' : u.after ? 'cortical-rnn sweep --help or worker --help (after slurm … --)' : `cortical-rnn ${u.verb} --help`;
    problems.push(`${u.file}:${u.line}: --${u.flag}: not an option of ${u.verb ? `cortical-rnn ${u.verb}` : 'cortical-rnn'} (not listed by ${where})`);
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`check-docs: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${docs.length} files`);
  process.exit(1);
}
console.log(`check-docs: ${docs.length} files, ${nLinks} links, ${nFlags} flags checked`);
