/**
 * `npm run backup [-- --out <file>]`: one archive of a running node (its PostgreSQL cluster and
 * evidence files), written while the node keeps working. See stack/backup.ts for what is in it.
 */
import path from 'node:path';
import { loadConfig } from '../config';
import { backupNode } from '../stack/backup';
import { DEFAULT_NODE_PORTS } from '../stack/node';

async function main(): Promise<void> {
  const config = loadConfig();
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const out = outAt >= 0 && args[outAt + 1] ? args[outAt + 1] : path.join(process.cwd(), `kontrol-backup-${stamp}.tar`);
  const port = Number(process.env.POSTGRES_PORT || DEFAULT_NODE_PORTS.postgres);
  const started = Date.now();
  const manifest = await backupNode({ dataDir: config.dataDir, postgresPort: port, out });
  console.log(
    `Резервная копия записана: ${path.resolve(out)}\n` +
      `  PostgreSQL ${manifest.postgres.serverVersion}, файлов отчётов: ${Object.keys(manifest.files).length}, за ${((Date.now() - started) / 1000).toFixed(1)} с.\n` +
      '  В архиве пароль базы данных и секрет подписи: храните его так же надёжно, как сам сервер.\n' +
      `  Восстановление: DATA_DIR=<пустой каталог> npm run restore -- ${path.resolve(out)}`,
  );
}

main().catch((error: unknown) => {
  console.error(`Резервная копия не создана: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
