/**
 * `npm run restore -- <archive>`: brings a backup back into an empty DATA_DIR; `npm start` on it
 * then goes on from the moment of the backup, timers included.
 */
import { loadConfig } from '../config';
import { restoreNode } from '../stack/backup';

async function main(): Promise<void> {
  const archive = process.argv[2];
  if (!archive) throw new Error('укажите архив: npm run restore -- <архив>');
  const config = loadConfig();
  const manifest = await restoreNode({ archive, dataDir: config.dataDir });
  console.log(
    `Восстановлено в ${config.dataDir} из копии от ${new Date(manifest.createdAt).toLocaleString('ru-RU')}: ` +
      `файлов отчётов ${Object.keys(manifest.files).length}, все с верной SHA-256.\nЗапустите узел: npm start`,
  );
}

main().catch((error: unknown) => {
  console.error(`Восстановление не выполнено: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
