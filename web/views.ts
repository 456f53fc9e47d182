/**
 * The page engine: Handlebars (as for the emails) with a layout and partials from templates/pages,
 * and helpers that write what people read in Russian: dates DD.MM.YYYY in the authority's zone,
 * states, documents. Every value is escaped: the only {{{ }}} is the layout's page body.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Express } from 'express';
import { create } from 'express-handlebars';
import Handlebars from 'handlebars';
import { statusRu, type AssignmentStatus } from '../domain/assignment';
import { formatDateRu } from '../domain/deadline';
import { pluralRu } from '../domain/russian';
import { describeSource } from '../notifications/render';
import type { SourceRef } from '../notifications/render';
import { DateTime } from 'luxon';

const EVENT_RU: Record<string, string> = {
  issued: 'Выдано',
  submitted: 'Отчёт отправлен',
  accepted: 'Отчёт принят',
  returned: 'Возвращено на доработку',
  'extension-requested': 'Запрошено продление срока',
  'extension-approved': 'Срок продлён',
  'extension-rejected': 'В продлении отказано',
  overdue: 'Срок истёк',
  withdrawn: 'Отозвано',
};
const ROLE_RU: Record<string, string> = { admin: 'администратор', curator: 'куратор', executor: 'исполнитель', observer: 'наблюдатель' };

export function installViews(app: Express, { timezone, dir }: { timezone: string; dir?: string }): void {
  const root = dir ?? path.resolve(__dirname, '../templates/pages');
  const hbs = create({
    handlebars: Handlebars.create(),
    extname: '.hbs',
    defaultLayout: 'main',
    layoutsDir: path.join(root, 'layouts'),
    partialsDir: path.join(root, 'partials'),
    helpers: {
      date: (value: string | Date | null | undefined) => (value ? formatDateRu(value, timezone) : '—'),
      datetime: (value: string | Date | null | undefined) =>
        value ? DateTime.fromJSDate(new Date(value), { zone: timezone }).toFormat('dd.LL.yyyy HH:mm') : '—',
      isoDate: (value: string | Date) => DateTime.fromJSDate(new Date(value), { zone: timezone }).toISODate(),
      status: (value: AssignmentStatus) => statusRu(value),
      role: (value: string) => ROLE_RU[value] ?? value,
      /** A new key each time a form is shown: the form sent twice acts once (web/forms.ts, formOnce). */
      idempotencyKey: () => randomUUID(),
      event: (value: string) => EVENT_RU[value] ?? value,
      /** Who acted: a person's address, or «система» for the timers and the worker. */
      who: (value: string) => (value === 'system' ? 'система' : value),
      source: (value: SourceRef) => describeSource(value),
      eq: (a: unknown, b: unknown) => a === b,
      or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
      and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
      not: (a: unknown) => !a,
      plural: (n: number, one: string, few: string, many: string) => `${n} ${pluralRu(n, [one, few, many])}`,
      /** Width of a bar segment in the 0–100 viewBox of a chart. */
      share: (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0),
      offset: (...args: unknown[]) => {
        const [whole, ...parts] = args.slice(0, -1) as number[];
        const sum = parts.reduce((a, b) => a + Number(b), 0);
        return whole > 0 ? Math.round((sum / whole) * 1000) / 10 : 0;
      },
      sum: (...args: unknown[]) => args.slice(0, -1).reduce((total: number, n) => total + Number(n ?? 0), 0),
      /** «2027 год», «2027 и 2028 годы», «2027, 2028 и 2029 годы». */
      years: (list: number[]) => (list.length === 1 ? `${list[0]} год` : `${list.slice(0, -1).join(', ')} и ${list.at(-1)} годы`),
      /** The start of a long text, cut at a word: for lists that name recommendations. */
      excerpt: (text: string, most: number) => {
        if (typeof text !== 'string' || text.length <= most) return text;
        const cut = text.slice(0, most);
        return `${cut.slice(0, cut.lastIndexOf(' ') > most / 2 ? cut.lastIndexOf(' ') : most).trimEnd()}…`;
      },
      kb: (bytes: number) => (bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} КБ` : `${(bytes / 1024 / 1024).toFixed(1)} МБ`),
    },
  });
  app.engine('.hbs', hbs.engine);
  app.set('view engine', '.hbs');
  app.set('views', root);
}
