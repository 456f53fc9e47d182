/**
 * Email rendering: one isolated Handlebars instance with named helpers, templates from
 * templates/email as `<name>.subject.hbs`, `<name>.html.hbs` and `<name>.text.hbs`, each HTML and
 * text part wrapped in its layout. HTML escapes by default; text parts are compiled without
 * escaping (they are not HTML), and subjects are folded to one line so no header can be injected.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { formatDateRu } from '../domain/deadline';
import { pluralRu } from '../domain/russian';

export const EMAIL_TEMPLATES_DIR = path.resolve(__dirname, '../templates/email');

export interface SourceRef {
  kind: 'protocol' | 'letter';
  number: string;
  date: string;
  issuer?: string;
}

/** The data every assignment email is rendered with; fields an event lacks are empty. */
export interface AssignmentEmailData {
  organization: string;
  source: SourceRef;
  text: string;
  due: string;
  /** A recurring recommendation's cycle («2024», «II кв. 2024»); empty for a one-off one. */
  period: string;
  link: string;
  /** The curator's or executor's comment on this event. */
  comment: string;
  /** Why: an extension request's or a withdrawal's reason. */
  reason: string;
  /** An extension request's date (ISO). */
  until: string;
  /** An extension decision. */
  approved: boolean;
  /** Whole calendar days from the day the email is made to the deadline's day (reminders). */
  daysLeft: number;
  /** Whole calendar days since the deadline's day (escalation). */
  daysOverdue: number;
  /** The escalation step's number in the recommendation's ladder. */
  step: number;
  /** The assignment's state in Russian, as the addressee's superiors should read it. */
  status: string;
}

/** One assignment in a curator's weekly digest. */
export interface DigestItem {
  organization: string;
  source: SourceRef;
  text: string;
  due: string;
  link: string;
}

/** A curator's weekly digest: what is due this week, what is overdue, what waits for review. */
export interface DigestEmailData {
  curator: string;
  /** First and last day of the week covered, ISO instants. */
  weekStart: string;
  weekEnd: string;
  dueSoon: DigestItem[];
  overdue: DigestItem[];
  review: DigestItem[];
  /** Totals: the lists above show at most the first few of each. */
  counts: { dueSoon: number; overdue: number; review: number };
  /** Where the curator's list of assignments is. */
  link: string;
  /** Earlier weeks whose digest never reached this curator (a failure, or the node was down); usually empty. */
  missed: DigestWeekRange[];
}

/** A week the digest covers: its first and last day, ISO instants. */
export interface DigestWeekRange {
  weekStart: string;
  weekEnd: string;
}

/** To administrators: the weekly digest did not go out for these weeks. */
export interface DigestMissedEmailData {
  weeks: DigestWeekRange[];
  /** Why, in Russian, as the run recorded it. */
  reason: string;
  /** Curators whose digest went out anyway before the run gave up, and all the active ones. */
  sent: number;
  curators: number;
  /** Where an administrator looks next: the delivery log. */
  link: string;
}

export const TEMPLATE_NAMES = [
  'assignment-issued',
  'assignment-reminder',
  'assignment-overdue',
  'assignment-escalated',
  'assignment-still-overdue',
  'evidence-submitted',
  'evidence-accepted',
  'evidence-returned',
  'extension-requested',
  'extension-decided',
  'recommendation-withdrawn',
  'curator-digest',
  'digest-missed',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
/** Templates about one assignment; the rest (the digest and its failure notice) have data of their own. */
export type AssignmentTemplateName = Exclude<TemplateName, 'curator-digest' | 'digest-missed'>;
export type TemplateData<N extends TemplateName> = N extends 'curator-digest'
  ? DigestEmailData
  : N extends 'digest-missed'
    ? DigestMissedEmailData
    : AssignmentEmailData;

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface EmailRenderer {
  names(): TemplateName[];
  render<N extends TemplateName>(name: N, data: TemplateData<N>): RenderedEmail;
}

const KIND_RU: Record<SourceRef['kind'], string> = { protocol: 'протокол', letter: 'письмо' };

/** «протокол от 31.05.2022 № 5», as emails and pages name a document. */
export function describeSource(s: SourceRef): string {
  const [y, m, d] = s.date.split('-');
  return `${KIND_RU[s.kind]} от ${d}.${m}.${y} № ${s.number}`;
}

export function createEmailRenderer({
  timezone,
  authority,
  dir = EMAIL_TEMPLATES_DIR,
}: {
  timezone: string;
  authority: string;
  dir?: string;
}): EmailRenderer {
  const hbs = Handlebars.create();
  hbs.registerHelper('date', (value: string | Date) => formatDateRu(value, timezone));
  hbs.registerHelper('source', (s: SourceRef) => describeSource(s));
  hbs.registerHelper('plural', (n: number, one: string, few: string, many: string) => `${n} ${pluralRu(n, [one, few, many])}`);
  hbs.registerHelper('add', (a: number, b: number) => Number(a) + Number(b));
  hbs.registerHelper('minus', (a: number, b: number) => Number(a) - Number(b));
  hbs.registerHelper('gt', (a: number, b: number) => Number(a) > Number(b));
  hbs.registerHelper('excerpt', (text: string, max: number) => {
    const flat = String(text ?? '').replace(/\s+/g, ' ').trim();
    return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
  });

  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  const partials = readdirSync(path.join(dir, 'partials'));
  for (const file of partials) {
    const match = /^(.+)\.(html|text)\.hbs$/.exec(file);
    if (match) hbs.registerPartial(`${match[1]}-${match[2]}`, read(path.join('partials', file)));
  }
  const names = readdirSync(dir)
    .map((f) => /^(.+)\.subject\.hbs$/.exec(f)?.[1])
    .filter((n): n is TemplateName => Boolean(n));

  // Text parts are compiled without escaping: "&quot;" in a plain-text email would be a bug.
  const compileHtml = (source: string) => hbs.compile(source, { strict: true });
  const compileText = (source: string) => hbs.compile(source, { strict: true, noEscape: true });
  // Each part names its partials without the suffix ({{> assignment}}); the part picks its kind.
  const forPart = (source: string, part: 'html' | 'text') => source.replace(/\{\{>\s*([\w-]+)\s*\}\}/g, `{{> $1-${part}}}`);

  const layouts = { html: compileHtml(read('layout.html.hbs')), text: compileText(read('layout.text.hbs')) };
  const compiled = new Map(
    names.map((name) => [
      name,
      {
        subject: compileText(read(`${name}.subject.hbs`)),
        html: compileHtml(forPart(read(`${name}.html.hbs`), 'html')),
        text: compileText(forPart(read(`${name}.text.hbs`), 'text')),
      },
    ]),
  );

  return {
    names: () => [...names],
    render(name, data) {
      const template = compiled.get(name);
      if (!template) throw new Error(`no email template named ${name}`);
      const subject = template.subject(data).replace(/[\r\n]+/g, ' ').replace(/\s+/g, ' ').trim();
      return {
        subject,
        html: layouts.html({ subject, authority, body: template.html(data) }),
        text: layouts.text({ authority, body: template.text(data).trim() }),
      };
    },
  };
}
