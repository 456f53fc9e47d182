/**
 * Deadline phrases as protocols and letters write them, read into deadlines:
 * «срок – сентябрь 2022 г.», «срок: сентябрь 2023 г., далее – ежегодно», «до 05 октября 2020г.»,
 * «до 30.09.2022», «II квартал 2023 года», «первое полугодие 2024 г.», «до конца года»,
 * «ежеквартально», «ежемесячно до 5 числа», «постоянно».
 *
 * A month means its last day; "до DD месяца" and "до DD.MM.YYYY" mean that day; a quarter, a
 * half-year or "до конца года" means its last day. The named date (`nominal`) then goes through the
 * working-day rule of the calendar (`due`). Anything not recognised is `unknown`: never a guess.
 *
 * Matching runs on a copy of the text changed only letter for letter (lower case, ё → е, every dash
 * → '-'), so positions in it are positions in the original and `source` quotes the original words.
 */
import { DateTime } from 'luxon';
import type { WorkingCalendar } from './calendar';
import { resolveDeadline, type NonWorkingDayRule } from './deadline';

export type Frequency = 'yearly' | 'quarterly' | 'monthly';

export interface DeadlineOccurrence {
  /** The date the words name, YYYY-MM-DD. */
  nominal: string;
  /** The date after the working-day rule, YYYY-MM-DD. */
  dueDate: string;
  /** The moment the deadline passes: the end of `dueDate` in the zone, ISO 8601. */
  due: string;
}

export type ParsedDeadline =
  | ({ kind: 'date'; source: string } & DeadlineOccurrence)
  | ({ kind: 'recurring'; source: string; recurrence: { frequency: Frequency }; occurrences: DeadlineOccurrence[] } & DeadlineOccurrence)
  | { kind: 'standing'; source: string }
  | { kind: 'unknown'; source: string };

export interface PhraseContext {
  /** The document's date, YYYY-MM-DD: supplies the year a phrase leaves out. */
  reference: string;
  calendar: WorkingCalendar;
  timezone: string;
  rule: NonWorkingDayRule;
}

const L = '[а-яa-z]'; // a letter, for word edges (\b does not know Cyrillic)
const WORD_START = `(?<!${L})`;
const WORD_END = `(?!${L})`;
const MONTH_WORD =
  '(январ(?:ь|я|е|ю)|феврал(?:ь|я|е|ю)|март(?:а|е|у)?|апрел(?:ь|я|е|ю)|ма(?:й|я|е|ю)|июн(?:ь|я|е|ю)|июл(?:ь|я|е|ю)|август(?:а|е|у)?|сентябр(?:ь|я|е|ю)|октябр(?:ь|я|е|ю)|ноябр(?:ь|я|е|ю)|декабр(?:ь|я|е|ю))';
const MONTH_STEMS = ['январ', 'феврал', 'март', 'апрел', 'ма', 'июн', 'июл', 'август', 'сентябр', 'октябр', 'ноябр', 'декабр'];
/** "2022 г.", "2022г.", "2022 года", "2022 году": the year and the word after it. */
const YEAR = `(\\d{4})(?:\\s*(?:г\\.|г${WORD_END}|года|году|год${WORD_END}))?`;
const ORDINAL = `(iv|i{1,3}|[1-4]|перв${L}*|втор${L}*|трет${L}*|четверт${L}*)(?:\\s*-?\\s*(?:й|го|ом|м|е))?`;

const PATTERNS = {
  standing: new RegExp(`${WORD_START}постоянно${WORD_END}`),
  recurrence: new RegExp(`${WORD_START}(ежегодно|ежеквартально|ежемесячно)${WORD_END}`),
  numeric: /(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?!\d)(?:\s*(?:г\.|г(?![а-яa-z])|года?))?/,
  dayMonth: new RegExp(`(?<!\\d)(\\d{1,2})\\s+${MONTH_WORD}${WORD_END}(?:\\s+${YEAR})?`),
  monthRange: new RegExp(`${WORD_START}${MONTH_WORD}\\s*-\\s*${MONTH_WORD}${WORD_END}\\s*${YEAR}`),
  monthYear: new RegExp(`${WORD_START}${MONTH_WORD}${WORD_END}(?:\\s+${YEAR})?`),
  quarter: new RegExp(`${WORD_START}${ORDINAL}\\s+(?:квартал${L}*|кв\\.)(?:\\s+${YEAR})?`),
  halfYear: new RegExp(`${WORD_START}${ORDINAL}\\s+полугоди${L}*(?:\\s+${YEAR})?`),
  yearEnd: new RegExp(`до\\s+конца\\s+(?:(?:текущего|календарного|этого)\\s+)?(?:${YEAR}|года)`),
  dayOfMonth: /(?:до\s+)?(\d{1,2})\s*-?\s*(?:го\s+)?числа/,
};

/** Same length as the input, letter for letter, so match positions quote the original. */
function normalise(text: string): string {
  return text.toLowerCase().replace(/ё/g, 'е').replace(/[‐‑‒–—―−]/g, '-');
}

function monthOf(word: string): number {
  const index = MONTH_STEMS.findIndex((stem) => (stem === 'ма' ? /^ма[йяею]$/.test(word) : word.startsWith(stem)));
  return index + 1;
}

function ordinalOf(word: string): number | undefined {
  const roman: Record<string, number> = { i: 1, ii: 2, iii: 3, iv: 4 };
  if (word in roman) return roman[word];
  if (/^[1-4]$/.test(word)) return Number(word);
  if (word.startsWith('перв')) return 1;
  if (word.startsWith('втор')) return 2;
  if (word.startsWith('трет')) return 3;
  if (word.startsWith('четверт')) return 4;
  return undefined;
}

function lastDayOfMonth(year: number, month: number): string {
  return DateTime.utc(year, month, 1).endOf('month').toISODate()!;
}

function isoDate(year: number, month: number, day: number): string | undefined {
  const date = DateTime.utc(year, month, day);
  return date.isValid && date.day === day ? date.toISODate()! : undefined;
}

interface Found {
  nominal: string;
  start: number;
  end: number;
  /** For a recurrence: the step from one cycle's nominal date to the next. */
  monthEnd: boolean;
}

/**
 * Reads the first deadline phrase in `text`. `reference` supplies a missing year (the document's
 * year; a day already past by then means the next year).
 */
export function parseDeadlinePhrase(text: string, context: PhraseContext): ParsedDeadline {
  const norm = normalise(text);
  const refYear = Number(context.reference.slice(0, 4));
  const quote = (start: number, end: number) => text.slice(start, end).trim();
  const yearOr = (value: string | undefined) => (value ? Number(value) : undefined);
  /** A date without a year: the reference's year, or the next one if that day is already behind it. */
  const inYearOf = (make: (year: number) => string | undefined) => {
    const same = make(refYear);
    return same && same >= context.reference ? same : make(refYear + 1);
  };

  const found = findDate(norm, refYear, yearOr, inYearOf);
  const recurrence = PATTERNS.recurrence.exec(norm);
  const standing = PATTERNS.standing.exec(norm);

  if (recurrence) {
    const frequency: Frequency = recurrence[1] === 'ежегодно' ? 'yearly' : recurrence[1] === 'ежеквартально' ? 'quarterly' : 'monthly';
    const first = found ?? firstOfRecurrence(norm, frequency, context.reference);
    if (!first) return { kind: 'unknown', source: quote(recurrence.index, recurrence.index + recurrence[0].length) };
    const start = Math.min(first.start, recurrence.index);
    const end = Math.max(first.end, recurrence.index + recurrence[0].length);
    const nominals = [0, 1, 2].map((k) => step(first.nominal, frequency, k, first.monthEnd));
    const occurrences = nominals.map((nominal) => occurrence(nominal, context));
    return { kind: 'recurring', source: quote(start, end), recurrence: { frequency }, ...occurrences[0], occurrences };
  }
  if (found) return { kind: 'date', source: quote(found.start, found.end), ...occurrence(found.nominal, context) };
  if (standing) return { kind: 'standing', source: quote(standing.index, standing.index + standing[0].length) };
  return { kind: 'unknown', source: '' };
}

function findDate(
  norm: string,
  refYear: number,
  yearOr: (value: string | undefined) => number | undefined,
  inYearOf: (make: (year: number) => string | undefined) => string | undefined,
): Found | undefined {
  const candidates: Array<Found | undefined> = [];
  const at = (match: RegExpExecArray, nominal: string | undefined, monthEnd = false): Found | undefined =>
    nominal ? { nominal, start: match.index, end: match.index + match[0].length, monthEnd } : undefined;

  let m = PATTERNS.numeric.exec(norm);
  if (m) {
    const year = m[3].length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
    candidates.push(at(m, isoDate(year, Number(m[2]), Number(m[1]))));
  }
  m = PATTERNS.dayMonth.exec(norm);
  if (m) {
    const [day, month, year] = [Number(m[1]), monthOf(m[2]), yearOr(m[3])];
    candidates.push(at(m, year ? isoDate(year, month, day) : inYearOf((y) => isoDate(y, month, day))));
  }
  m = PATTERNS.yearEnd.exec(norm);
  if (m) candidates.push(at(m, `${yearOr(m[1]) ?? refYear}-12-31`));
  m = PATTERNS.quarter.exec(norm);
  if (m) {
    const q = ordinalOf(m[1]);
    const year = yearOr(m[2]);
    if (q) candidates.push(at(m, year ? lastDayOfMonth(year, q * 3) : inYearOf((y) => lastDayOfMonth(y, q * 3)), true));
  }
  m = PATTERNS.halfYear.exec(norm);
  if (m) {
    const h = ordinalOf(m[1]);
    const year = yearOr(m[2]);
    if (h === 1 || h === 2) candidates.push(at(m, year ? lastDayOfMonth(year, h * 6) : inYearOf((y) => lastDayOfMonth(y, h * 6)), true));
  }
  m = PATTERNS.monthRange.exec(norm);
  if (m) candidates.push(at(m, lastDayOfMonth(Number(m[3]), monthOf(m[2])), true));
  m = PATTERNS.monthYear.exec(norm);
  if (m) {
    const month = monthOf(m[1]);
    const year = yearOr(m[2]);
    // A month named inside "DD месяца" belongs to that phrase, not to one of its own.
    const dayBefore = /\d\s*$/.test(norm.slice(0, m.index));
    if (!dayBefore) candidates.push(at(m, year ? lastDayOfMonth(year, month) : inYearOf((y) => lastDayOfMonth(y, month)), true));
  }
  // The earliest phrase in the text wins; at one position, the longest (a range over its first month).
  return candidates
    .filter((c): c is Found => Boolean(c))
    .sort((a, b) => a.start - b.start || b.end - a.end)[0];
}

/** A recurrence with no date of its own: the first period end (or "до N числа") after the reference. */
function firstOfRecurrence(norm: string, frequency: Frequency, reference: string): Found | undefined {
  const ref = DateTime.fromISO(reference, { zone: 'utc' });
  const dayOfMonth = PATTERNS.dayOfMonth.exec(norm);
  if (frequency === 'monthly') {
    if (dayOfMonth) {
      const day = Number(dayOfMonth[1]);
      if (day < 1 || day > 28) return undefined;
      const candidate = ref.set({ day });
      const nominal = (candidate.toISODate()! >= reference ? candidate : candidate.plus({ months: 1 })).toISODate()!;
      return { nominal, start: dayOfMonth.index, end: dayOfMonth.index + dayOfMonth[0].length, monthEnd: false };
    }
    return { nominal: ref.endOf('month').toISODate()!, start: norm.length, end: 0, monthEnd: true };
  }
  if (frequency === 'quarterly') {
    return { nominal: ref.endOf('quarter').toISODate()!, start: norm.length, end: 0, monthEnd: true };
  }
  return undefined; // "ежегодно" alone does not say when in the year
}

function step(nominal: string, frequency: Frequency, k: number, monthEnd: boolean): string {
  const base = DateTime.fromISO(nominal, { zone: 'utc' });
  const months = frequency === 'yearly' ? 12 * k : frequency === 'quarterly' ? 3 * k : k;
  const moved = base.plus({ months });
  return (monthEnd ? moved.endOf('month') : moved).toISODate()!;
}

function occurrence(nominal: string, { calendar, timezone, rule }: PhraseContext): DeadlineOccurrence {
  const resolved = resolveDeadline(nominal, { timezone, calendar, rule })!;
  return {
    nominal,
    dueDate: DateTime.fromJSDate(resolved.due, { zone: timezone }).toISODate()!,
    due: resolved.due.toISOString(),
  };
}
