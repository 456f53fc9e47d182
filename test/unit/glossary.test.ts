/**
 * GLOSSARY.md applied: no word it lists under «Не пишем» appears in what people read (the page
 * and email templates, and the strings of the code that builds pages, emails and messages), and
 * the discipline figures are never called «отчёт», which is what an addressee sends.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { byNameRu, compareRu, pluralRu } from '../../domain/russian';

const ROOT = path.resolve(__dirname, '../..');
const SOURCES = ['templates', 'web', 'api', 'notifications', 'domain', 'seed', 'workers', 'workflows'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return filesUnder(full);
    return /\.(hbs|ts|js)$/.test(name) ? [full] : [];
  });
}

/** The words GLOSSARY.md says not to write. */
function bannedWords(): string[] {
  const glossary = readFileSync(path.join(ROOT, 'GLOSSARY.md'), 'utf8');
  const section = glossary.slice(glossary.indexOf('## Не пишем'));
  return [...section.matchAll(/^- «([^»]+)» →/gm)].map((m) => m[1]);
}

describe('the glossary', () => {
  const files = SOURCES.flatMap((dir) => filesUnder(path.join(ROOT, dir)));

  it('lists words not to write, and none of them is written', () => {
    const banned = bannedWords();
    expect(banned.length).toBeGreaterThanOrEqual(5);
    const found: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8').toLowerCase();
      for (const word of banned) {
        // At the start of a word: «отчет» and «отчета», not «отчёт».
        if (new RegExp(`(^|[^а-яё])${word}`, 'u').test(text)) found.push(`${path.relative(ROOT, file)}: «${word}»`);
      }
    }
    expect(found).toEqual([]);
  });

  it('never calls the discipline figures «отчёт»: every link to them says «дисциплина»', () => {
    const links: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.hbs'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/<a [^>]*href="\/reports\/discipline"[^>]*>([^<]*)<\/a>/g)) links.push(m[1]);
    }
    expect(links.length).toBeGreaterThan(0);
    for (const label of links) expect(label).toMatch(/дисциплин/i);
  });
});

describe('Russian forms', () => {
  it('puts names in Russian alphabetical order: ё with е, case aside, numbers by value', () => {
    const names = ['Школа № 10', 'школа № 2', 'Ёлкинская школа', 'Александровский район', 'Еловка', 'Zaton', 'Бакчарский район'];
    expect(byNameRu(names, (n) => n)).toEqual(['Александровский район', 'Бакчарский район', 'Ёлкинская школа', 'Еловка', 'школа № 2', 'Школа № 10', 'Zaton']);
    expect(compareRu('ёлка', 'Елка')).toBe(0);
  });

  it('chooses the plural form by the number', () => {
    const forms: [string, string, string] = ['адресат', 'адресата', 'адресатов'];
    expect([1, 2, 5, 11, 21, 22, 25, 111, 0].map((n) => `${n} ${pluralRu(n, forms)}`)).toEqual([
      '1 адресат',
      '2 адресата',
      '5 адресатов',
      '11 адресатов',
      '21 адресат',
      '22 адресата',
      '25 адресатов',
      '111 адресатов',
      '0 адресатов',
    ]);
  });
});
