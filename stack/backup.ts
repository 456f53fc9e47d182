/**
 * Backup and restore of a node: one archive holding a physical copy of the PostgreSQL cluster
 * (every database at one instant: Temporal's state and timers, its visibility, FerretDB's
 * collections) and the evidence files, so a restored node goes on where the backup was taken.
 *
 * The archive is a tar file:
 *   kontrol-backup.json   what it is: format, versions, time, the files and their SHA-256
 *   postgres/base.tar.gz  pg_basebackup of the running cluster (WAL streamed in, consistent)
 *   postgres/pg_wal.tar.gz
 *   data/                 DATA_DIR's own files: evidence (files/), secrets/, jwt-secret, session-secret, the node marker
 * It holds the database password and the token secret: keep it as safe as the server itself.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, cpSync, openSync, renameSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATA_FORMAT } from './node';
import { POSTGRES_SUPERUSER, resolveClusterDir, runAs } from './postgres';
import { postgresBinary } from './tools';

export const BACKUP_FORMAT = 1;
const MANIFEST = 'kontrol-backup.json';
/** What of DATA_DIR goes into the archive besides the cluster: state, never caches or logs. */
const DATA_ENTRIES = ['files', 'secrets', 'jwt-secret', 'session-secret', 'kontrol-node.json'];

export interface BackupManifest {
  format: number;
  dataFormat: number;
  createdAt: string;
  postgres: { serverVersion: string };
  /** Evidence files by path under data/, with their SHA-256. */
  files: Record<string, string>;
}

export class BackupError extends Error {}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; what: string }): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...options.env }, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new BackupError(`${options.what}: ${(result.stderr || result.stdout || result.error?.message || `exit ${result.status}`).trim()}`);
  }
  return result.stdout;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function walk(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full, base) : entry.isFile() ? [path.relative(base, full)] : [];
  });
}

export interface BackupOptions {
  dataDir: string;
  /** The running cluster's port (POSTGRES_PORT of the node). */
  postgresPort: number;
  /** Where to write the archive. */
  out: string;
}

/** Writes one archive of a running node; resolves with its manifest. */
export async function backupNode({ dataDir, postgresPort, out }: BackupOptions): Promise<BackupManifest> {
  const passwordFile = path.join(dataDir, 'secrets', 'postgres-password');
  if (!existsSync(passwordFile)) throw new BackupError(`В ${dataDir} нет кластера PostgreSQL узла Kontrol (нет secrets/postgres-password).`);
  const password = readFileSync(passwordFile, 'utf8').trim();
  const work = mkdtempSync(path.join(os.tmpdir(), 'kontrol-backup-'));
  try {
    const env = { PGPASSWORD: password };
    const serverVersion = run(postgresBinary('psql'), ['-h', '127.0.0.1', '-p', String(postgresPort), '-U', POSTGRES_SUPERUSER, '-d', 'postgres', '-tAc', 'SHOW server_version'], {
      env,
      what: `PostgreSQL узла не отвечает на 127.0.0.1:${postgresPort} (узел должен работать во время резервного копирования)`,
    }).trim();
    // One consistent instant of every database, taken while the node keeps working; the WAL
    // written meanwhile is streamed in, so the copy needs nothing else to start.
    mkdirSync(path.join(work, 'postgres'));
    run(
      postgresBinary('pg_basebackup'),
      ['-h', '127.0.0.1', '-p', String(postgresPort), '-U', POSTGRES_SUPERUSER, '-D', path.join(work, 'postgres'), '-Ft', '-z', '-X', 'stream', '-c', 'fast', '--no-password'],
      { env, what: 'pg_basebackup' },
    );
    // Files after the cluster: evidence is stored before any workflow hears of it, so every file
    // the copied databases name is already on disk by now.
    const data = path.join(work, 'data');
    mkdirSync(data);
    for (const entry of DATA_ENTRIES) {
      const source = path.join(dataDir, entry);
      if (existsSync(source)) cpSync(source, path.join(data, entry), { recursive: true, preserveTimestamps: true });
    }
    const files: Record<string, string> = {};
    for (const file of walk(path.join(data, 'files'))) files[path.join('files', file)] = await sha256(path.join(data, 'files', file));
    const manifest: BackupManifest = { format: BACKUP_FORMAT, dataFormat: DATA_FORMAT, createdAt: new Date().toISOString(), postgres: { serverVersion }, files };
    writeFileSync(path.join(work, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    const partial = `${path.resolve(out)}.partial`;
    // Created 0600 before tar writes a byte of it: the archive holds the node's secrets.
    closeSync(openSync(partial, 'w', 0o600));
    chmodSync(partial, 0o600);
    try {
      run('tar', ['-cf', partial, '-C', work, MANIFEST, 'postgres', 'data'], { what: 'tar' });
      // Renamed only once complete, so a failed backup never leaves an archive that looks whole.
      renameSync(partial, path.resolve(out));
    } catch (error) {
      rmSync(partial, { force: true });
      throw error;
    }
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface RestoreOptions {
  archive: string;
  /** Must not exist or be empty: a restore never mixes with a node's data. */
  dataDir: string;
}

/** Unpacks an archive into an empty DATA_DIR; `npm start` on it then goes on from the backup. */
export async function restoreNode({ archive, dataDir }: RestoreOptions): Promise<BackupManifest> {
  if (!existsSync(archive)) throw new BackupError(`Архив ${archive} не найден.`);
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new BackupError(`Каталог ${dataDir} не пуст. Восстановление выполняется только в пустой DATA_DIR, чтобы не смешать данные двух узлов.`);
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'kontrol-restore-'));
  try {
    run('tar', ['-xf', archive, '-C', work], { what: `Архив ${archive} не читается` });
    const manifestFile = path.join(work, MANIFEST);
    if (!existsSync(manifestFile)) throw new BackupError(`${archive} не является резервной копией Kontrol (нет ${MANIFEST}).`);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BackupManifest;
    if (manifest.format !== BACKUP_FORMAT || manifest.dataFormat !== DATA_FORMAT) {
      throw new BackupError(`Резервная копия другого формата (${manifest.format}/${manifest.dataFormat}); эта версия Kontrol читает ${BACKUP_FORMAT}/${DATA_FORMAT}.`);
    }
    for (const [file, expected] of Object.entries(manifest.files)) {
      const actual = await sha256(path.join(work, 'data', file));
      if (actual !== expected) throw new BackupError(`Файл ${file} в архиве повреждён (SHA-256 не совпадает).`);
    }

    mkdirSync(dataDir, { recursive: true });
    const user = runAs();
    // Where the node will look for it: under DATA_DIR, or where PostgreSQL's user can reach it.
    const cluster = resolveClusterDir(path.resolve(dataDir, 'postgres'), user);
    if (existsSync(cluster) && readdirSync(cluster).length > 0) {
      throw new BackupError(`${cluster} не пуст: восстановление не смешивает кластер копии с другим.`);
    }
    for (const entry of readdirSync(path.join(work, 'data'))) cpSync(path.join(work, 'data', entry), path.join(dataDir, entry), { recursive: true, preserveTimestamps: true });
    mkdirSync(path.join(cluster, 'pg_wal'), { recursive: true, mode: 0o700 });
    run('tar', ['-xzf', path.join(work, 'postgres', 'base.tar.gz'), '-C', cluster], { what: 'tar base.tar.gz' });
    run('tar', ['-xzf', path.join(work, 'postgres', 'pg_wal.tar.gz'), '-C', path.join(cluster, 'pg_wal')], { what: 'tar pg_wal.tar.gz' });
    chmodSync(cluster, 0o700);
    // PostgreSQL runs as its own user when the node runs as root: the cluster must be theirs.
    if (user) chownTree(cluster, user.uid, user.gid);
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) chownTree(full, uid, gid);
    else chownSync(full, uid, gid);
  }
}
