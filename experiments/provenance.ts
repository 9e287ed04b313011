/**
 * Which code produced a result: the git commit of the package (and whether its tracked files
 * had uncommitted changes). Recorded in every run's config.json and final.json and in each
 * sweep invocation, so a grid can be traced to one commit and is never a silent mix.
 *
 * CORTICAL_RNN_COMMIT overrides it (an installed package has no .git to ask).
 */
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CodeVersion {
  /** Full commit hash, or null when it cannot be known. */
  commit: string | null;
  /** Tracked files differ from the commit (null when unknown). */
  dirty: boolean | null;
}

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let cached: CodeVersion | null = null;

export function codeVersion(): CodeVersion {
  if (cached) return cached;
  const env = process.env.CORTICAL_RNN_COMMIT;
  if (env) return (cached = { commit: env, dirty: null });
  const git = (args: string[]) => execFileSync('git', args, { cwd: PACKAGE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git(['rev-parse', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']).length > 0;
    cached = { commit, dirty };
  } catch {
    cached = { commit: null, dirty: null };
  }
  return cached;
}
