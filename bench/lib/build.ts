/**
 * The benchmark runs the worker (and the mail service) from dist/, as a node does: this makes sure
 * dist/ is there and no older than the sources it is compiled from, running `npm run -s build`
 * otherwise. Its output goes to stderr, so stdout keeps only the result line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { log } from './util';

/** What `npm run build` compiles (tsconfig.build.json), copies (templates, web/public) or depends on. */
const SOURCES = ['api', 'web', 'workers', 'workflows', 'domain', 'store', 'config', 'seed', 'notifications', 'stack', 'templates', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
/** Written last by the build: if it is there and newer than every source, dist/ is complete and current. */
export const BUILT_MARKERS = ['dist/workflow-bundle.js', 'dist/workers/main.js', 'dist/stack/mail-main.js'];

function newestMtime(file: string): { mtimeMs: number; file: string } {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return { mtimeMs: 0, file };
  if (!stat.isDirectory()) return { mtimeMs: stat.mtimeMs, file };
  let newest = { mtimeMs: 0, file };
  for (const entry of readdirSync(file)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const candidate = newestMtime(path.join(file, entry));
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

/** Why dist/ must be rebuilt, or undefined when it is current. */
export function staleReason(root: string): string | undefined {
  const missing = BUILT_MARKERS.find((f) => !existsSync(path.join(root, f)));
  if (missing) return `${missing} is missing`;
  const built = Math.min(...BUILT_MARKERS.map((f) => statSync(path.join(root, f)).mtimeMs));
  const newest = SOURCES.map((s) => newestMtime(path.join(root, s))).reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  return newest.mtimeMs > built ? `${path.relative(root, newest.file)} is newer than dist/` : undefined;
}

/** Builds unless dist/ is current; `force` builds anyway. Returns whether it built. */
export function ensureBuilt(root: string, { force = false }: { force?: boolean } = {}): boolean {
  const reason = force ? 'asked to (--build)' : staleReason(root);
  if (!reason) {
    log('dist/ is current');
    return false;
  }
  log(`building dist/ (${reason}): npm run -s build`);
  const started = Date.now();
  // stdout to our stderr: the build's messages must not mix with the result line.
  const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status ?? result.signal})`);
  log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}
