/**
 * A DATA_DIR of the version that kept Temporal and FerretDB in SQLite is refused, in Russian, with
 * what to do; a new one is marked with the current format, and another format is refused too.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkDataDir, DATA_FORMAT, DataDirError } from '../../stack/node';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kontrol-data-dir-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('checkDataDir', () => {
  it('marks a new DATA_DIR with the current format', () => {
    const data = path.join(dir, 'data');
    checkDataDir(data);
    expect(JSON.parse(readFileSync(path.join(data, 'kontrol-node.json'), 'utf8'))).toMatchObject({ format: DATA_FORMAT, store: 'postgresql' });
    // A second start on it is fine.
    expect(() => checkDataDir(data)).not.toThrow();
  });

  it('refuses the dev server’s SQLite state of the previous version, saying what to do', () => {
    mkdirSync(path.join(dir, 'temporal'));
    writeFileSync(path.join(dir, 'temporal', 'temporal.db'), '');
    expect(() => checkDataDir(dir)).toThrow(DataDirError);
    expect(() => checkDataDir(dir)).toThrow(/создан прежней версией Kontrol.*SQLite[\s\S]*переименуйте каталог[\s\S]*DATA_DIR=/);
    expect(existsSync(path.join(dir, 'kontrol-node.json'))).toBe(false);
  });

  it('refuses FerretDB’s SQLite files of the previous version', () => {
    mkdirSync(path.join(dir, 'ferretdb'));
    writeFileSync(path.join(dir, 'ferretdb', 'kontrol.sqlite'), '');
    expect(() => checkDataDir(dir)).toThrow(/прежней версией/);
  });

  it('refuses a DATA_DIR written in another format', () => {
    writeFileSync(path.join(dir, 'kontrol-node.json'), JSON.stringify({ format: DATA_FORMAT + 1 }));
    expect(() => checkDataDir(dir)).toThrow(/другой версией Kontrol/);
  });
});
