/**
 * A private PostgreSQL cluster from Debian's server binaries, as a child process: created with
 * initdb on first start (a superuser with a generated password, scram-sha-256, loopback TCP only),
 * then started and stopped with the node. Run as root, the cluster belongs to and runs as the
 * `postgres` system user, because PostgreSQL refuses to run as root.
 */
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withFreePort } from './ports';
import { spawnProcess, waitUntil, type ManagedProcess } from './processes';
import { postgresBinary } from './tools';

const HOST = '127.0.0.1';
export const POSTGRES_SUPERUSER = 'kontrol';

export interface PostgresOptions {
  /** The cluster's directory (PGDATA); created with initdb when it holds no cluster yet. */
  clusterDir: string;
  /** Where the superuser's password is kept (created on first start, mode 0600). */
  passwordFile: string;
  /** A free one when omitted. */
  port?: number;
  logFile?: string;
  inheritOutput?: boolean;
  /**
   * false trades crash safety for speed (fsync off): for throwaway test clusters only. A node's
   * cluster is always durable.
   */
  durable?: boolean;
  readyTimeoutMs?: number;
}

export interface Postgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** postgres://user:password@127.0.0.1:port/<database> */
  url(database: string): string;
  process: ManagedProcess;
  /** Runs SQL through psql as the superuser; resolves with psql's output (tuples only). */
  sql(database: string, statement: string): string;
  /** Creates the database unless it exists. */
  ensureDatabase(name: string): void;
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Who the server runs as: ourselves, or `postgres` when we are root. */
export function runAs(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('PostgreSQL не запускается от root, а системного пользователя postgres нет: установите пакет postgresql (npm run provision).');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function canTraverse(dir: string, user: RunAs): boolean {
  return spawnSync('test', ['-x', dir, '-a', '-r', dir], { uid: user.uid, gid: user.gid }).status === 0;
}

/**
 * The directory the cluster really lives in. When we run as root and the postgres user cannot
 * reach clusterDir (a parent such as /root is private), the cluster is kept under
 * /var/lib/kontrol-postgres and clusterDir becomes a symlink to it, so DATA_DIR still names it.
 */
export function resolveClusterDir(clusterDir: string, user: RunAs | undefined): string {
  const parent = path.dirname(clusterDir);
  mkdirSync(parent, { recursive: true });
  const link = lstatOrUndefined(clusterDir);
  if (link?.isSymbolicLink()) return path.resolve(parent, readlinkSync(clusterDir));
  if (link || !user || canTraverse(parent, user)) return clusterDir;
  // Keyed by the path and a random part: a DATA_DIR deleted and made again at the same path must
  // not find the old cluster here.
  const key = `${createHash('sha256').update(clusterDir).digest('hex').slice(0, 12)}-${randomBytes(4).toString('hex')}`;
  const real = path.join(FALLBACK_ROOT, key, 'postgres');
  mkdirSync(path.dirname(real), { recursive: true, mode: 0o755 });
  chmodSync(FALLBACK_ROOT, 0o755);
  chmodSync(path.dirname(real), 0o755);
  symlinkSync(real, clusterDir);
  return real;
}

/** Where clusters go whose DATA_DIR the postgres user cannot reach (not DATA_DIR of a service). */
const FALLBACK_ROOT = '/var/lib/kontrol-postgres';

function lstatOrUndefined(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

function readOrCreatePassword(file: string): string {
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 16) return stored;
  }
  const password = randomBytes(24).toString('hex');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, password, { mode: 0o600 });
  return password;
}

function run(command: string, args: string[], options: { user?: RunAs; env?: NodeJS.ProcessEnv; what: string }): string {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    uid: options.user?.uid,
    gid: options.user?.gid,
    env: { ...process.env, ...options.env },
    // initdb and psql need a readable working directory once they are not root.
    cwd: '/',
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? result.error.message : ''}`.trim();
    throw new Error(`${options.what} failed (exit ${result.status}): ${output}`);
  }
  return result.stdout;
}

function initCluster(dir: string, password: string, user: RunAs | undefined): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
  // initdb reads the password from a file the server's user can read; it is removed at once.
  const pwfile = `${dir}.pwfile`;
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (user) chownSync(pwfile, user.uid, user.gid);
  try {
    run(
      postgresBinary('initdb'),
      ['-D', dir, '-U', POSTGRES_SUPERUSER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8'],
      { user, what: 'initdb' },
    );
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Resolves once the cluster accepts connections (initialising it first when it is new). */
export async function startPostgres(options: PostgresOptions): Promise<Postgres> {
  const user = runAs();
  const clusterDir = resolveClusterDir(path.resolve(options.clusterDir), user);
  const hadPassword = existsSync(options.passwordFile);
  const initialising = `${clusterDir}.initdb`;
  if (existsSync(path.join(clusterDir, 'PG_VERSION')) && !hadPassword) {
    throw new Error(
      `В ${clusterDir} есть кластер PostgreSQL, но нет файла пароля ${options.passwordFile}: этот кластер не от этого каталога данных. ` +
        'Верните файл пароля из резервной копии или перенесите кластер в сторону.',
    );
  }
  const password = readOrCreatePassword(options.passwordFile);
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    // Only a cluster this code began to create (and was cut off) is removed and made again.
    if (existsSync(clusterDir) && readdirSync(clusterDir).length > 0 && !existsSync(initialising)) {
      throw new Error(`${clusterDir} не пуст и не похож на кластер PostgreSQL: проверьте его и уберите вручную.`);
    }
    writeFileSync(initialising, '');
    rmSync(clusterDir, { recursive: true, force: true });
    initCluster(clusterDir, password, user);
    rmSync(initialising, { force: true });
  }
  const durability = options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [];

  return withFreePort(options.port, async (port) => {
    const server = spawnProcess({
      name: 'postgres',
      command: postgresBinary('postgres'),
      args: [
        '-D', clusterDir,
        '-p', String(port),
        '-c', `listen_addresses=${HOST}`,
        // TCP on loopback only: no socket file in a system directory another cluster may own.
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=200',
        ...durability,
      ],
      cwd: '/',
      uid: user?.uid,
      gid: user?.gid,
      logFile: options.logFile,
      inheritOutput: options.inheritOutput,
    });
    const env = { PGPASSWORD: password, PGCONNECT_TIMEOUT: '2' };
    try {
      await waitUntil(
        async () => {
          run(postgresBinary('pg_isready'), ['-h', HOST, '-p', String(port), '-t', '1'], { what: 'pg_isready' });
          // pg_isready says the server takes connections; a query says it takes ours.
          run(postgresBinary('psql'), ['-h', HOST, '-p', String(port), '-U', POSTGRES_SUPERUSER, '-d', 'postgres', '-tAc', 'SELECT 1'], { env, what: 'psql' });
        },
        { what: `postgres at ${HOST}:${port}`, timeoutMs: options.readyTimeoutMs ?? 60_000, intervalMs: 200, process: server },
      );
    } catch (error) {
      // A lost race for the port shows as "Address already in use" in the log tail, which
      // withFreePort recognises and retries on another port.
      await server.stop();
      throw error;
    }
    const sql = (database: string, statement: string) =>
      run(postgresBinary('psql'), ['-h', HOST, '-p', String(port), '-U', POSTGRES_SUPERUSER, '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', statement], {
        env,
        what: `psql ${database}`,
      });
    return {
      host: HOST,
      port,
      user: POSTGRES_SUPERUSER,
      password,
      url: (database) => `postgres://${POSTGRES_SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${encodeURIComponent(database)}`,
      process: server,
      sql,
      ensureDatabase(name) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
        if (sql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`).trim() !== '1') sql('postgres', `CREATE DATABASE ${name}`);
      },
      // SIGTERM is PostgreSQL's "smart" shutdown, which waits for clients; SIGINT ("fast") does not.
      stop: () => stopFast(server),
    };
  });
}

async function stopFast(server: ManagedProcess): Promise<void> {
  if (server.exitStatus === undefined && server.pid !== undefined) {
    try {
      process.kill(server.pid, 'SIGINT');
    } catch {
      // already gone
    }
    const exited = await Promise.race([server.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    if (exited) return;
  }
  await server.stop();
}
