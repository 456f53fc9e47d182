/**
 * Reads a protocol or letter as pasted (see shared/seeds) into draft recommendations: the items,
 * each with its deadline phrase read (domain/deadline-phrase) and the addressees its wording or the
 * letter's header names, plus the source document's requisites when the text states them.
 *
 * Everything here proposes; nothing decides. A curator reviews the drafts and confirms them, and
 * what the reader could not tell (no deadline, no addressee) is said in `problems`, never guessed.
 *
 * Items are the lines of a list («·», «•», «-», «1.», «1)»), a wrapped line joining the one before
 * it. A text without a list (a letter telling one decision in prose) yields the sentences that set
 * a deadline («до 05 октября 2020г. …», «срок …»).
 *
 * Addressee phrases are matched word by word on word stems (the first five letters), so cases and
 * small slips («органов местно самоуправления, осуществляющим…») still match; a group named at the
 * head of an item addresses that item, otherwise the groups the letter's header names do.
 */
import { DateTime } from 'luxon';
import { isoDateRu } from './deadline';
import { parseDeadlinePhrase, type ParsedDeadline, type PhraseContext } from './deadline-phrase';

export interface GroupPhrases {
  code: string;
  phrases: string[];
}

export interface DocumentRef {
  kind: 'protocol' | 'letter';
  number: string;
  /** YYYY-MM-DD */
  date: string;
  title: string;
  /** Who issued it, when the text says; otherwise the authority sending the letter. */
  issuer?: string;
  /** The words it was read from. */
  words: string;
}

export interface DraftItem {
  n: number;
  /** The item as written. */
  original: string;
  /** The recommendation's text: the item without the addressee it opens with, as a sentence. */
  text: string;
  deadline: ParsedDeadline;
  addressees: { groups: string[]; from: 'item' | 'header' | 'none'; words: string };
  /** What the item lacks before it can be issued, in Russian. */
  problems: string[];
}

export interface ProtocolDrafts {
  /** The document the items come from: the protocol the letter conveys, or the letter itself. */
  source: DocumentRef | null;
  /** Every document the text gives requisites for. */
  documents: DocumentRef[];
  /** The date phrases without a year were read against, YYYY-MM-DD. */
  reference: string;
  items: DraftItem[];
}

export type ReaderContext = Omit<PhraseContext, 'reference'> & { groups: GroupPhrases[]; today: string };

const BULLET = /^\s*(?:[·•▪●◦‣∙]|[-–—](?=\s)|\d{1,2}(?:\.\d{1,2})*[.)](?=\s))\s*(.*)$/;
const DATE = '(\\d{1,2})\\.(\\d{1,2})\\.(\\d{4})';
/** "_26.08.2022        №____766": a letter's own date and number in its header. */
const LETTER_REQUISITES = new RegExp(`^[\\s_]*(?:от\\s*)?${DATE}\\s*(?:г\\.?)?[\\s_]*№[\\s_]*([0-9][0-9A-Za-zА-Яа-я/-]*)`);
/** "протоколе заседания Коллегии … от 31.05.2022 г. № 5" */
const PROTOCOL = new RegExp(`(протокол[а-яё]*)\\s+((?:(?!протокол)[^:;.])*?)\\s*от\\s+${DATE}\\s*(?:г\\.?|года)?\\s*№\\s*([0-9][0-9A-Za-zА-Яа-я/-]*)`, 'gi');
/** "письмо … от 26.08.2022 № 766" */
const LETTER_REFERENCE = new RegExp(`(письм[а-яё]*)\\s+((?:[^:;.])*?)\\s*от\\s+${DATE}\\s*(?:г\\.?|года)?\\s*№\\s*([0-9][0-9A-Za-zА-Яа-я/-]*)`, 'gi');
const SALUTATION = /^\s*(уважаем|добрый день|здравствуйте)/i;
const SIGNATURE = /^\s*(директор|заместитель директора|начальник|с уважением|исп\.|исполнитель)/i;
const NOMINATIVE: Record<string, string> = { коллегии: 'Коллегия', совета: 'Совет', комиссии: 'Комиссия', совещания: 'Совещание', собрания: 'Собрание' };

export function readProtocol(text: string, context: ReaderContext): ProtocolDrafts {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const headerEnd = findHeaderEnd(lines);
  const letter = findLetter(lines, headerEnd);
  const references = findReferences(text).filter((d) => !(letter && d.kind === 'letter' && d.number === letter.number && d.date === letter.date));
  const documents = [...(letter ? [letter] : []), ...references];
  const reference = letter?.date ?? documents[0]?.date ?? context.today;
  const phraseContext: PhraseContext = { ...context, reference };

  const listed = listItems(lines, headerEnd);
  const raw = listed.length > 0 ? listed : proseItems(lines.slice(headerEnd).join('\n'), phraseContext);
  const header = lines.slice(0, headerEnd).join('\n');
  const headerGroups = matchGroups(header, context.groups, false);
  const intro = listed.length > 0 ? text.slice(0, text.indexOf(raw[0].original)) : text;
  const source = chooseSource(documents, letter, intro);

  const items = raw.map((item, i): DraftItem => {
    const own = matchGroups(item.original, context.groups, true);
    const addressees = own.groups.length > 0
      ? { groups: own.groups, words: own.words, from: 'item' as const }
      : headerGroups.groups.length > 0
        ? { groups: headerGroups.groups, words: headerGroups.words, from: 'header' as const }
        : { groups: [], words: '', from: 'none' as const };
    const deadline = parseDeadlinePhrase(item.original, phraseContext);
    const problems: string[] = [];
    if (deadline.kind === 'standing') problems.push('Срок «постоянно»: у поручения нет даты — укажите срок или не выдавайте пункт');
    if (deadline.kind === 'unknown') problems.push('Срок не распознан — укажите его');
    if (addressees.groups.length === 0) problems.push('Адресаты не определены — выберите группу или организации');
    return { n: i + 1, original: item.original, text: cleanText(item.original, own.end), deadline, addressees, problems };
  });
  return { source, documents, reference, items };
}

/** The header ends at the salutation, or at the letter's own requisites line, whichever is first. */
function findHeaderEnd(lines: string[]): number {
  const limit = Math.min(lines.length, 60);
  for (let i = 0; i < limit; i += 1) {
    if (SALUTATION.test(lines[i])) return i;
  }
  for (let i = 0; i < limit; i += 1) {
    if (LETTER_REQUISITES.test(lines[i])) return i + 1;
  }
  return 0;
}

function findLetter(lines: string[], headerEnd: number): DocumentRef | undefined {
  const top = lines.slice(0, Math.max(headerEnd, 1) + 1);
  for (let i = 0; i < top.length; i += 1) {
    const match = LETTER_REQUISITES.exec(top[i]);
    const date = match && isoDate(match[1], match[2], match[3]);
    if (!match || !date) continue;
    return { kind: 'letter', number: match[4], date, title: letterSubject(lines, i + 1), words: match[0].replace(/_+/g, ' ').replace(/\s+/g, ' ').trim() };
  }
  return undefined;
}

/** "Об итогах …" right after the requisites, up to the salutation or a blank line. */
function letterSubject(lines: string[], from: number): string {
  const subject: string[] = [];
  for (let i = from; i < Math.min(lines.length, from + 12); i += 1) {
    const line = lines[i].trim();
    if (/^на\s*№/i.test(line) || (subject.length === 0 && line === '')) continue;
    if (SALUTATION.test(line) || line === '') break;
    if (subject.length === 0 && !/^(о|об)\s/i.test(line)) break;
    subject.push(line);
  }
  return subject.join(' ').replace(/\s+/g, ' ').replace(/[;,]\s*$/, '');
}

function findReferences(text: string): DocumentRef[] {
  const found: DocumentRef[] = [];
  for (const [pattern, kind] of [[PROTOCOL, 'protocol'], [LETTER_REFERENCE, 'letter']] as const) {
    for (const match of text.matchAll(pattern)) {
      const date = isoDate(match[3], match[4], match[5]);
      if (!date) continue;
      const what = match[2].replace(/\s+/g, ' ').trim();
      const title = kind === 'protocol' ? `Протокол ${what}`.trim() : `Письмо ${what}`.trim();
      const issuerWords = kind === 'protocol' ? /^заседани[яеи]\s+(\S+)(.*)$/i.exec(what) : null;
      const issuer = issuerWords && NOMINATIVE[issuerWords[1].toLowerCase()] ? `${NOMINATIVE[issuerWords[1].toLowerCase()]}${issuerWords[2]}` : undefined;
      if (!found.some((d) => d.kind === kind && d.number === match[6] && d.date === date))
        found.push({ kind, number: match[6], date, title, ...(issuer ? { issuer } : {}), words: match[0].replace(/\s+/g, ' ').trim() });
    }
  }
  return found;
}

/**
 * The items come from the protocol named just before them («зафиксированы в протоколе … от
 * 31.05.2022 г. № 5:»), conveyed by the letter; otherwise from the letter itself.
 */
function chooseSource(documents: DocumentRef[], letter: DocumentRef | undefined, intro: string): DocumentRef | null {
  const tail = intro.slice(-600);
  const protocol = documents.find((d) => d.kind === 'protocol' && tail.includes(d.words.split(' ')[0]) && tail.replace(/\s+/g, ' ').includes(d.words));
  if (protocol) {
    const via = letter ? ` (доведён письмом от ${isoDateRu(letter.date)} № ${letter.number})` : '';
    return { ...protocol, title: `${protocol.title}${via}` };
  }
  return letter ?? documents[0] ?? null;
}

function listItems(lines: string[], headerEnd: number): Array<{ original: string }> {
  const items: string[] = [];
  let open = false;
  for (const line of lines.slice(headerEnd)) {
    const bullet = BULLET.exec(line);
    if (bullet && bullet[1].trim().length > 0) {
      items.push(bullet[1].trim());
      open = !/[.;!]\s*$/.test(bullet[1]);
      continue;
    }
    const trimmed = line.trim();
    if (!trimmed || SIGNATURE.test(trimmed)) {
      open = false;
      continue;
    }
    // A wrapped line belongs to the item above while that item has not ended its sentence.
    if (open && items.length > 0) {
      items[items.length - 1] += ` ${trimmed}`;
      open = !/[.;!]\s*$/.test(trimmed);
    }
  }
  return items.map((original) => ({ original: original.replace(/\s+/g, ' ') }));
}

function proseItems(body: string, context: PhraseContext): Array<{ original: string }> {
  const sentences = body
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+(?=[А-ЯЁA-Z])/)
    .map((s) => s.trim());
  return sentences
    .filter((s) => /(?:^|[\s(])(до\s+\d|срок)/i.test(s) && parseDeadlinePhrase(s, context).kind !== 'unknown')
    .map((original) => ({ original }));
}

interface Token {
  word: string;
  stem: string;
  start: number;
  end: number;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  for (const match of text.matchAll(/[а-яёa-z0-9]+/gi)) {
    const word = match[0].toLowerCase().replace(/ё/g, 'е');
    out.push({ word, stem: word.slice(0, 5), start: match.index, end: match.index + match[0].length });
  }
  return out;
}

/** Words that may stand before a group's name in an address: «руководителям и координаторам …». */
const ADDRESS_WORD = /^(и|(.*(ам|ям|ым|им)))$/;

/**
 * Groups whose phrase occurs in the text, word stem by word stem. `atHead`: only a phrase that the
 * item opens with counts, after nothing but address words in the dative («руководителям»), so an
 * item about "обновление сети межмуниципальных центров" is not addressed to them. `end` is where
 * the addressee words end.
 */
function matchGroups(text: string, groups: GroupPhrases[], atHead: boolean): { groups: string[]; words: string; end: number } {
  const words = tokens(text);
  const found: string[] = [];
  let end = 0;
  const quoted: string[] = [];
  for (const group of groups) {
    for (const phrase of group.phrases) {
      const stems = tokens(phrase).map((t) => t.stem);
      if (stems.length === 0) continue;
      const last = atHead ? Math.min(3, words.length - stems.length) : words.length - stems.length;
      for (let i = 0; i <= last; i += 1) {
        if (atHead && i > 0 && !ADDRESS_WORD.test(words[i - 1].word)) break;
        if (stems.every((stem, k) => words[i + k].stem === stem)) {
          if (!found.includes(group.code)) found.push(group.code);
          const to = words[i + stems.length - 1].end;
          end = Math.max(end, to);
          quoted.push(text.slice(words[i].start, to));
          break;
        }
      }
    }
  }
  return { groups: found, words: [...new Set(quoted)].join('; '), end };
}

/** The item as a recommendation: without the addressee it opens with, capitalised, one sentence. */
function cleanText(original: string, addresseeEnd: number): string {
  let text = original;
  if (addresseeEnd > 0) {
    // Drop "руководителям … образования," when what follows is the task itself.
    const rest = text.slice(addresseeEnd).replace(/^[\s,:–—-]+/, '');
    if (rest.length >= 5) text = rest;
  }
  text = text.trim().replace(/[;,\s]+$/, '');
  if (!/[.!?)]$/.test(text) || /\)$/.test(text)) text = text.replace(/\.?$/, '.');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isoDate(day: string, month: string, year: string): string | undefined {
  const date = DateTime.utc(Number(year), Number(month), Number(day));
  return date.isValid && date.day === Number(day) ? date.toISODate()! : undefined;
}
