/**
 * The executive-discipline report: per organisation and per recommendation, over the assignments
 * issued in a period, how many were issued, done on time, done late, are overdue now, and were
 * returned for revision at least once. The same figures go to the page and to the .xlsx file.
 */
import ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import { isoDateRu } from '../domain/deadline';
import { byNameRu } from '../domain/russian';
import { describeSource } from '../notifications/render';
import type { Page, Repositories } from '../store/repositories';

export interface ReportRow {
  name: string;
  detail: string;
  issued: number;
  onTime: number;
  late: number;
  overdue: number;
  returned: number;
  /** Share done on time of those due by now or done, in percent; null when none is. */
  discipline: number | null;
}

export interface DisciplineReport {
  from: string;
  to: string;
  organizations: ReportRow[];
  recommendations: ReportRow[];
}

/** Period bounds as typed (YYYY-MM-DD, inclusive) or this year so far. */
export function reportPeriod(query: { from?: unknown; to?: unknown }, timezone: string): { from: string; to: string } | undefined {
  const today = DateTime.now().setZone(timezone);
  const from = typeof query.from === 'string' && query.from ? query.from : today.startOf('year').toISODate()!;
  const to = typeof query.to === 'string' && query.to ? query.to : today.toISODate()!;
  const valid = (d: string) => /^\d{4}-\d{2}-\d{2}$/.test(d) && DateTime.fromISO(d).isValid;
  return valid(from) && valid(to) && from <= to ? { from, to } : undefined;
}

/** A row's name and its place in Russian alphabetical order among all of its kind. */
export interface RowName {
  name(key: string): string;
  /** Compares two rows' names (by their rank, worked out once per list of names). */
  compare(a: string, b: string): number;
  /**
   * The keys in the order of their names. Kept under `memo` while the names and the keys are the
   * same: a recommendation's 2,300 addressees are not sorted again on every page of its card.
   */
  ordered(keys: readonly string[], memo: string): string[];
}

/** Orders kept per list of names and memo key (see RowName.ordered); a few hundred at most. */
const orders = new WeakMap<object, Map<string, { keys: string; ordered: string[] }>>();
const ORDERS_KEPT = 200;

/** Ranks by list: the directory and the recommendations are the same arrays while unchanged. */
const ranked = new WeakMap<object, Map<string, { name: string; rank: number }>>();
function rankOf<T>(list: T[], key: (item: T) => string, name: (item: T) => string, sorted: boolean): Map<string, { name: string; rank: number }> {
  let ranks = ranked.get(list);
  if (!ranks) {
    const ordered = sorted ? list : byNameRu(list, name);
    ranks = new Map(ordered.map((item, rank) => [key(item), { name: name(item), rank }]));
    ranked.set(list, ranks);
  }
  return ranks;
}

/**
 * What the tables name their rows by, for every row (from this process's copies): an
 * organisation's name, a recommendation's text. Rows equal in their figures go in Russian
 * alphabetical order of these; codes are never shown.
 */
export async function rowNames(repos: Repositories): Promise<Record<'org' | 'rec', RowName>> {
  const [orgs, recs] = await Promise.all([repos.organizations.directory(), repos.recommendations.all()]);
  const of = (ranks: Map<string, { name: string; rank: number }>): RowName => {
    const compare = (a: string, b: string) => (ranks.get(a)?.rank ?? Infinity) - (ranks.get(b)?.rank ?? Infinity) || (a < b ? -1 : a > b ? 1 : 0);
    return {
      name: (key) => ranks.get(key)?.name ?? key,
      compare,
      ordered(keys, memo) {
        let kept = orders.get(ranks);
        if (!kept) orders.set(ranks, (kept = new Map()));
        const joined = keys.join('\n');
        const hit = kept.get(memo);
        if (hit?.keys === joined) return hit.ordered;
        const ordered = [...keys].sort(compare);
        if (kept.size >= ORDERS_KEPT) kept.delete(kept.keys().next().value!);
        kept.set(memo, { keys: joined, ordered });
        return ordered;
      },
    };
  };
  return {
    // The directory is in that order already.
    org: of(rankOf(orgs, (o) => o._id, (o) => o.name, true)),
    rec: of(rankOf(recs, (r) => r._id, (r) => r.text, false)),
  };
}

/**
 * Over the assignments issued in the period (days in the time zone, inclusive), from the summaries.
 * Worst first (lowest discipline, then most overdue, then by name). With pages, each table holds
 * only its page, and only its rows' names and texts are read; `totals` gives the whole length.
 */
export async function buildReport(
  repos: Repositories,
  period: { from: string; to: string },
  pages?: { organizations: Page; recommendations: Page },
): Promise<DisciplineReport & { totals: { organizations: number; recommendations: number } }> {
  const [{ byOrganization: byOrg, byRecommendation: byRec }, names] = await Promise.all([repos.assignments.discipline(period), rowNames(repos)]);
  // The figures as the dashboard and the card read them (domain/tally.ts, disciplineOf).
  const figures = (r: (typeof byOrg)[number]) => ({ issued: r.issued, onTime: r.onTime, late: r.late, overdue: r.overdue, returned: r.returned, discipline: r.discipline });
  const worstFirst = (rows: typeof byOrg, names: RowName) =>
    rows
      .map((r) => ({ r, f: figures(r), name: names.name(r.key) }))
      .sort((a, b) => (a.f.discipline ?? 101) - (b.f.discipline ?? 101) || b.f.overdue - a.f.overdue || names.compare(a.r.key, b.r.key));
  const pageOf = <T>(rows: T[], page?: Page) => (page ? rows.slice(page.offset, page.offset + page.limit) : rows);
  const orgRows = pageOf(worstFirst(byOrg, names.org), pages?.organizations);
  const recRows = pageOf(worstFirst(byRec, names.rec), pages?.recommendations);
  const recs = await repos.recommendations.cachedMany(recRows.map(({ r }) => r.key));
  return {
    ...period,
    organizations: orgRows.map(({ f, name }) => ({ name, detail: '', ...f })),
    recommendations: recRows.map(({ r, f }, i) => {
      const rec = recs[i];
      return { name: rec?.text ?? r.key, detail: rec ? describeSource(rec.source) : '', ...f };
    }),
    totals: { organizations: byOrg.length, recommendations: byRec.length },
  };
}

const COLUMNS = [
  { header: 'Выдано', key: 'issued' },
  { header: 'Исполнено в срок', key: 'onTime' },
  { header: 'Исполнено с опозданием', key: 'late' },
  { header: 'Просрочено сейчас', key: 'overdue' },
  { header: 'Возвращалось на доработку', key: 'returned' },
  { header: 'Исполнительская дисциплина, %', key: 'discipline' },
] as const;

/** The report as an .xlsx workbook: one sheet per breakdown, the period in the title row. */
export async function reportWorkbook(report: DisciplineReport): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'Контроль';
  const period = `${isoDateRu(report.from)}–${isoDateRu(report.to)}`;
  /** A sheet: the name column, a detail column when `second` names one, then the figures. */
  const sheet = (title: string, first: string, second: string | null, rows: ReportRow[]) => {
    const ws = book.addWorksheet(title);
    ws.addRow([`Исполнительская дисциплина: ${title.toLowerCase()}, поручения, выданные ${period}`]).font = { bold: true };
    ws.addRow([]);
    const header = ws.addRow([first, ...(second ? [second] : []), ...COLUMNS.map((c) => c.header)]);
    header.font = { bold: true };
    header.alignment = { wrapText: true, vertical: 'top' };
    for (const r of rows) ws.addRow([r.name, ...(second ? [r.detail] : []), ...COLUMNS.map((c) => r[c.key] ?? '')]);
    ws.getColumn(1).width = 60;
    if (second) ws.getColumn(2).width = 28;
    const firstFigure = second ? 3 : 2;
    for (let i = firstFigure; i < firstFigure + COLUMNS.length; i += 1) ws.getColumn(i).width = 16;
    ws.views = [{ state: 'frozen', ySplit: 3 }];
  };
  sheet('По организациям', 'Организация', null, report.organizations);
  sheet('По рекомендациям', 'Рекомендация', 'Документ', report.recommendations);
  return Buffer.from(await book.xlsx.writeBuffer());
}
