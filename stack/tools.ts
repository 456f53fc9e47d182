/**
 * Locates the service binaries built by scripts/provision.sh. The defaults and environment
 * variables mirror that script exactly, so both always agree on where a given version lives.
 */
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_TEMPORAL_CLI_VERSION = 'v1.5.1';
export const DEFAULT_FERRETDB_VERSION = 'v1.24.2';
export const DEFAULT_TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const DEFAULT_TEMPORAL_UI_VERSION = 'v2.42.1';
export const DEFAULT_POSTGRES_VERSION = '15';

export class MissingToolError extends Error {
  constructor(
    readonly tool: string,
    readonly binaryPath: string,
  ) {
    super(`${tool} not found at ${binaryPath}: run \`npm run provision\` to install it (first time only).`);
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

function temporalServerDir(env: NodeJS.ProcessEnv): { dir: string; version: string } {
  const version = orDefault(env.TEMPORAL_SERVER_VERSION, DEFAULT_TEMPORAL_SERVER_VERSION);
  return { dir: path.join(toolsDir(env), `temporal-server-${version}`), version };
}

/** The Temporal server (go.temporal.io/server cmd/server); throws MissingToolError if not provisioned. */
export function temporalServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const { dir, version } = temporalServerDir(env);
  return requireExecutable(`Temporal server ${version}`, path.join(dir, 'temporal-server'));
}

/** temporal-sql-tool, built beside the server from the same version. */
export function temporalSqlToolBinary(env: NodeJS.ProcessEnv = process.env): string {
  const { dir, version } = temporalServerDir(env);
  return requireExecutable(`temporal-sql-tool ${version}`, path.join(dir, 'temporal-sql-tool'));
}

/** The server's versioned PostgreSQL schema (`schema/postgresql` of the same module version). */
export function temporalSchemaDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(temporalServerDir(env).dir, 'schema', 'postgresql', 'v12');
}

/** The Temporal Web UI server (github.com/temporalio/ui-server/v2 cmd/server). */
export function temporalUiBinary(env: NodeJS.ProcessEnv = process.env): string {
  const version = orDefault(env.TEMPORAL_UI_VERSION, DEFAULT_TEMPORAL_UI_VERSION);
  return requireExecutable(`Temporal UI server ${version}`, path.join(toolsDir(env), `temporal-ui-${version}`, 'ui-server'));
}

/** Debian's PostgreSQL server binaries (initdb, postgres, pg_dump…). */
export function postgresBinary(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const version = orDefault(env.POSTGRES_VERSION, DEFAULT_POSTGRES_VERSION);
  return requireExecutable(`PostgreSQL ${version} ${name}`, path.join(env.POSTGRES_BIN_DIR || `/usr/lib/postgresql/${version}/bin`, name));
}
