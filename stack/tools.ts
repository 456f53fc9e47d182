/**
 * Locates the service binaries built by scripts/provision.sh. The defaults and environment
 * variables mirror that script exactly, so both always agree on where a given version lives.
 */
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_TEMPORAL_CLI_VERSION = 'v1.5.1';
export const DEFAULT_FERRETDB_VERSION = 'v1.24.2';

export class MissingToolError extends Error {
  constructor(
    readonly tool: string,
    readonly binaryPath: string,
  ) {
    super(`${tool} not found at ${binaryPath}: run \`npm run provision\` to build it (first time only).`);
    this.name = 'MissingToolError';
  }
}

// Bash's `${VAR:-default}` treats an empty variable as unset; `||` does the same here.
const orDefault = (value: string | undefined, fallback: string): string => value || fallback;

export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = orDefault(env.XDG_CACHE_HOME, path.join(orDefault(env.HOME, os.homedir()), '.cache'));
  return orDefault(env.KONTROL_TOOLS_DIR, path.join(cacheHome, 'kontrol', 'tools'));
}

export function temporalVersion(env: NodeJS.ProcessEnv = process.env): string {
  return orDefault(env.TEMPORAL_CLI_VERSION, DEFAULT_TEMPORAL_CLI_VERSION);
}

export function ferretDbVersion(env: NodeJS.ProcessEnv = process.env): string {
  return orDefault(env.FERRETDB_VERSION, DEFAULT_FERRETDB_VERSION);
}

function requireExecutable(tool: string, binaryPath: string): string {
  try {
    accessSync(binaryPath, constants.X_OK);
  } catch {
    throw new MissingToolError(tool, binaryPath);
  }
  return binaryPath;
}

/** Path of the Temporal CLI (which embeds the dev server); throws MissingToolError if not provisioned. */
export function temporalBinary(env: NodeJS.ProcessEnv = process.env): string {
  const version = temporalVersion(env);
  return requireExecutable(`Temporal CLI ${version}`, path.join(toolsDir(env), `temporal-${version}`, 'temporal'));
}

/** Path of the FerretDB binary; throws MissingToolError if not provisioned. */
export function ferretDbBinary(env: NodeJS.ProcessEnv = process.env): string {
  const version = ferretDbVersion(env);
  return requireExecutable(`FerretDB ${version}`, path.join(toolsDir(env), `ferretdb-${version}`, 'ferretdb'));
}
