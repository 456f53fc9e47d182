/**
 * Fills the read model up to a given number of assignments for the list and page latencies, with
 * the spread of a working year rather than N copies of one row: besides the recommendation the run
 * issued, a few more addressed to every organisation and many addressed to forty (as protocol
 * items to the municipalities are), some of them yearly with several cycles; states mixed (issued,
 * submitted, returned, accepted on time and late, withdrawn, overdue, extension requests), each
 * with the audit entries, evidence and the issue email its history would have left.
 *
 * Everything is inserted directly with insertMany (recommendations copied from one of each kind
 * created through the API): starting 20,000 workflows would take longer than the whole benchmark.
 * Deterministic (a seeded generator), so two runs read the same data.
 */
import { randomUUID } from 'node:crypto';
import { auditEntityKey, type Models, type Recommendation } from '../../store/models';
import { secondOf, sliceOf } from '../../store/outbox';
import type { AssignmentStatus } from '../../domain/assignment';
import { assignmentId } from '../../domain/ids';
import { countersOf } from '../../domain/tally';
import { expectStatus, type Http } from './http';
import { inParallel, log } from './util';
import { seededRandom } from './random';

export interface SeedInput {
  models: Models;
  /** Tells the app's lists that recommendations were written around its repositories. */
  recommendationsChanged: () => Promise<void>;
  /** Likewise for the delivery log's days. */
  outboxDaysChanged: () => Promise<void>;
  http: Http;
  curatorToken: string;
  curator: { id: string; email: string; role: 'curator' };
  /** Every organisation the run created, in order; the first `smallOrgs` get the small recommendations. */
  organizations: string[];
  /** The read model's size to reach, counting what is there already. */
  target: number;
  /** Recommendations addressed to every organisation, besides the one the run issued. */
  bigRecommendations: number;
  /** How many organisations the small recommendations go to. */
  smallOrgs: number;
  label: string;
  /** Where a date deadline falls (the app's resolveDeadline with its calendar and rule). */
  resolveDue: (date: string) => { due: Date; nominal: string; moved: boolean };
  /** An issue email the run's worker recorded: its bodies are copied, so the log's rows weigh what real ones do. */
  sampleEmail?: { subject: string; html: string; text: string };
}

export interface SeedResult {
  recommendations: { big: string[]; small: string[]; recurring: string[] };
  inserted: { assignments: number; audit: number; evidence: number; outbox: number };
  /** Assignments worth opening: one with a long history (returned, then accepted), one waiting for review. */
  samples: { history: string; submitted: string };
  seconds: number;
}

const DAY = 86_400_000;
const NOW = Date.now();

interface PlannedRecommendation {
  kind: 'big' | 'small' | 'recurring';
  assignees: string[];
  /** The first cycle's deadline, YYYY-MM-DD. */
  due: string;
  cycles: number;
  issuedAt: Date;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Which recommendations make up the rows still missing; the last one takes only as many addressees as are left. */
function plan(input: SeedInput, missing: number, random: () => number): PlannedRecommendation[] {
  const planned: PlannedRecommendation[] = [];
  let left = missing;
  const small = input.organizations.slice(0, Math.min(input.smallOrgs, input.organizations.length));
  for (let i = 0; i < input.bigRecommendations && left >= input.organizations.length; i++) {
    // Issued over the past year; deadlines from half a year ago to half a year ahead.
    const issuedAt = NOW - (60 + Math.floor(random() * 300)) * DAY;
    planned.push({ kind: 'big', assignees: input.organizations, due: isoDate(issuedAt + (90 + i * 90) * DAY), cycles: 1, issuedAt: new Date(issuedAt) });
    left -= input.organizations.length;
  }
  for (let i = 0; left > 0; i++) {
    const recurring = i % 10 === 9 && left >= small.length * 4;
    const cycles = recurring ? 4 : 1;
    const issuedAt = recurring ? NOW - (3 * 365 + 120) * DAY : NOW - Math.floor(random() * 700) * DAY;
    const due = recurring ? `${new Date(issuedAt).getUTCFullYear()}-09-30` : isoDate(issuedAt + (20 + Math.floor(random() * 200)) * DAY);
    const assignees = small.slice(0, Math.min(small.length, Math.ceil(left / cycles)));
    planned.push({ kind: recurring ? 'recurring' : 'small', assignees, due, cycles, issuedAt: new Date(issuedAt) });
    left -= assignees.length * cycles;
  }
  return planned;
}

const STATES: Array<[number, AssignmentStatus | 'accepted-late']> = [
  [0.25, 'accepted'],
  [0.33, 'accepted-late'],
  [0.43, 'submitted'],
  [0.5, 'returned'],
  [0.52, 'withdrawn'],
  [1, 'issued'],
];

export async function seedReadModel(input: SeedInput): Promise<SeedResult> {
  const started = Date.now();
  const { models } = input;
  const random = seededRandom(20_000);
  const existing = await models.assignments.countDocuments({});
  const missing = input.target - existing;
  const result: SeedResult = {
    recommendations: { big: [], small: [], recurring: [] },
    inserted: { assignments: 0, audit: 0, evidence: 0, outbox: 0 },
    samples: { history: '', submitted: '' },
    seconds: 0,
  };
  if (missing <= 0) {
    log(`seed: the read model already holds ${existing} assignments`);
    return result;
  }
  const planned = plan(input, missing, random);
  log(`seed: ${missing} assignments to add to ${existing}, in ${planned.length} recommendations`);

  // One recommendation of each kind through the API, so they are what the API stores; the rest
  // are copies of those with their own text, deadline and addressees, inserted directly (creating
  // two hundred through the API took most of a minute), then all marked issued.
  const templates = new Map<PlannedRecommendation['kind'], Recommendation>();
  for (const p of planned) {
    if (templates.has(p.kind)) continue;
    const res = await input.http<{ id: string }>('POST', '/api/recommendations', {
      token: input.curatorToken,
      json: {
        source: { kind: 'protocol', number: `${input.label}-template`, date: '2024-01-15', title: 'Протокол коллегии (бенчмарк)' },
        text: `Бенчмарк (${p.kind}): обеспечить исполнение пункта протокола и представить отчёт`,
        assignees: [input.organizations[0]],
        deadline: { due: p.due, ...(p.kind === 'recurring' ? { recurrence: { frequency: 'yearly' } } : {}) },
      },
      timeoutMs: 300_000,
    });
    const id = expectStatus(res, 201, `create a ${p.kind} recommendation to copy`).body.id;
    templates.set(p.kind, (await models.recommendations.findById(id).lean())!);
    await models.recommendations.deleteOne({ _id: id });
  }
  const recs: Recommendation[] = planned.map((p, i) => {
    const template = templates.get(p.kind)!;
    const deadline = input.resolveDue(p.due);
    const number = `${input.label}-${Math.floor(i / 8) + 1}`;
    return {
      ...template,
      _id: `${input.label}-r${String(i + 1).padStart(4, '0')}`,
      source: { ...template.source, number, date: isoDate(p.issuedAt.getTime() - 7 * DAY) },
      text: `Бенчмарк (${p.kind} ${i + 1}): обеспечить исполнение пункта ${(i % 8) + 1} протокола № ${number} и представить отчёт`,
      assignees: p.assignees,
      deadline: { due: deadline.due, input: p.due, nominal: deadline.nominal, moved: deadline.moved },
      status: 'issued',
      issuedAt: p.issuedAt,
      issuedBy: input.curator,
      createdAt: new Date(p.issuedAt.getTime() - DAY),
      updatedAt: p.issuedAt,
    };
  });
  for (const [i, rec] of recs.entries()) result.recommendations[planned[i].kind].push(rec._id);
  await models.recommendations.collection.insertMany(recs as never[], { ordered: false });
  await input.recommendationsChanged();
  const issuedBy = input.curator;

  const assignments: Record<string, unknown>[] = [];
  const audit: Record<string, unknown>[] = [];
  const evidence: Record<string, unknown>[] = [];
  const outbox: Record<string, unknown>[] = [];
  const bodies: Record<string, unknown>[] = [];
  const executorOf = (org: string) => ({ id: `bench-executor-${org}`, email: `executor@${org}.bench.test`, role: 'executor' });
  const system = { id: 'system', email: 'system', role: 'system' };

  planned.forEach((p, i) => {
    const rec = recs[i];
    const firstDue = rec.deadline.due.getTime();
    for (let cycle = 1; cycle <= p.cycles; cycle++) {
      const due = firstDue + (cycle - 1) * 365 * DAY;
      // A cycle appears a year before its deadline: its rows are as old as that.
      const issued = p.cycles > 1 ? Math.max(p.issuedAt.getTime(), due - 365 * DAY) : p.issuedAt.getTime();
      for (const organization of p.assignees) {
        const id = assignmentId({ recommendationId: rec._id, organization, cycle });
        const roll = random();
        let state = STATES.find(([limit]) => roll < limit)![1];
        const past = due < NOW;
        // A deadline ahead: most of the work is still to do.
        if (!past && (state === 'accepted' || state === 'accepted-late') && random() < 0.6) state = 'issued';
        const status: AssignmentStatus = state === 'accepted-late' ? 'accepted' : state;
        const events: Array<{ action: string; at: number; actor: object; details: Record<string, unknown> }> = [];
        const at = (from: number, to: number) => Math.min(NOW - 60_000, from + random() * Math.max(0, to - from));
        events.push({ action: 'issued', at: issued, actor: issuedBy, details: { due: new Date(due).toISOString() } });
        let submissions = 0;
        let returns = 0;
        let lastSubmittedAt: number | null = null;
        let acceptedLate: boolean | null = null;
        const submit = (when: number) => {
          const evidenceId = randomUUID();
          submissions++;
          lastSubmittedAt = when;
          const doc: Record<string, unknown> = {
            _id: evidenceId,
            assignmentId: id,
            organization,
            comment: `Отчёт об исполнении № ${submissions}: мероприятия проведены, документы прилагаются`,
            files: [{ id: randomUUID(), name: `otchet-${submissions}.pdf`, size: 150_000 + Math.floor(random() * 500_000), type: 'application/pdf', sha256: randomUUID().replace(/-/g, '').padEnd(64, '0') }],
            state: 'recorded',
            submittedBy: executorOf(organization),
            submittedAt: new Date(when),
            createdAt: new Date(when),
          };
          evidence.push(doc);
          events.push({ action: 'submitted', at: when, actor: executorOf(organization), details: { evidenceId, comment: 'Отчёт прилагается', files: 1 } });
          return doc;
        };
        const review = (doc: Record<string, unknown>, decision: 'accept' | 'return', when: number) => {
          const evidenceId = doc._id;
          const comment = decision === 'return' ? 'Приложите подписанный отчёт' : undefined;
          doc.review = { decision, ...(comment ? { comment } : {}), by: issuedBy, at: new Date(when) };
          events.push({ action: decision === 'accept' ? 'accepted' : 'returned', at: when, actor: issuedBy, details: { decision, comment, evidenceId } });
        };
        const lateBy = state === 'accepted-late';
        const span = (past ? due : NOW) - issued;
        if (status !== 'issued' && status !== 'withdrawn') {
          const first = submit(at(issued, issued + span * (lateBy ? 1 : 0.7)));
          if (status === 'returned' || (status === 'accepted' && random() < 0.3) || (status === 'submitted' && random() < 0.2)) {
            review(first, 'return', at(lastSubmittedAt!, lastSubmittedAt! + 10 * DAY));
            returns++;
            if (status !== 'returned') submit(at(lastSubmittedAt! + 10 * DAY, lastSubmittedAt! + 20 * DAY));
          }
          if (status === 'accepted') {
            const decided = at(lastSubmittedAt!, lastSubmittedAt! + 7 * DAY);
            acceptedLate = lateBy || lastSubmittedAt! > due;
            review(evidence.at(-1)!, 'accept', decided);
          }
        }
        if (status === 'withdrawn') events.push({ action: 'withdrawn', at: at(issued, NOW), actor: issuedBy, details: { reason: 'Отозвана (бенчмарк)' } });
        const open = status === 'issued' || status === 'returned';
        const overdue = open && past;
        if (overdue) events.push({ action: 'overdue', at: due, actor: system, details: { due: new Date(due).toISOString() } });
        const extension =
          open && random() < 0.06
            ? { until: isoDate(Math.max(due, NOW) + 30 * DAY), reason: 'Не завершены работы подрядчика', requestedAt: new Date(at(issued, NOW)).toISOString(), requestedBy: executorOf(organization) }
            : null;
        if (extension) events.push({ action: 'extension-requested', at: Date.parse(extension.requestedAt), actor: extension.requestedBy, details: { until: extension.until, reason: extension.reason } });
        events.sort((a, b) => a.at - b.at);
        events.forEach((e, k) =>
          audit.push({
            _id: `assignment:${id}:${String(k + 1).padStart(6, '0')}`,
            at: new Date(e.at),
            actor: e.actor,
            action: e.action,
            entity: { kind: 'assignment', id },
            entityKey: auditEntityKey({ kind: 'assignment', id }),
            details: { ...e.details, status, due: new Date(due).toISOString(), overdue },
          }),
        );
        assignments.push({
          _id: id,
          recommendationId: rec._id,
          organization,
          cycle,
          ...(p.cycles > 1 ? { period: String(new Date(due).getUTCFullYear()) } : {}),
          status,
          overdue,
          due: new Date(due),
          originalDue: new Date(due),
          acceptedLate,
          extension,
          lastSubmittedAt: lastSubmittedAt === null ? null : new Date(lastSubmittedAt),
          submissions,
          returns,
          version: events.length,
          // Not counted yet: the worker's tallier counts them, as it would rows of an older version.
          tallied: null,
          tallyDirty: true,
          extensionPending: countersOf({ status, overdue, acceptedLate, returns, extension }).includes('extensionPending'),
          createdAt: new Date(issued),
          updatedAt: new Date(events.at(-1)!.at),
        });
        if (input.sampleEmail) {
          const key = `${id}:issued:v1`;
          bodies.push({ _id: key, html: input.sampleEmail.html, text: input.sampleEmail.text });
          outbox.push({
            _id: key,
            template: 'assignment-issued',
            to: [`coordinator@${organization}.bench.test`],
            subject: input.sampleEmail.subject,
            slice: sliceOf(new Date(issued)),
            second: secondOf(new Date(issued)),
            assignmentId: id,
            status: 'sent',
            attempts: 1,
            messageId: `<${randomUUID()}@bench>`,
            sentAt: new Date(issued + 5_000),
            context: { assignmentId: id, recommendationId: rec._id, event: 'issued' },
            createdAt: new Date(issued),
            updatedAt: new Date(issued + 5_000),
          });
        }
        if (!result.samples.history && status === 'accepted' && returns > 0) result.samples.history = id;
        if (!result.samples.submitted && status === 'submitted') result.samples.submitted = id;
      }
    }
  });

  // Straight to the collections (no mongoose casting or timestamps: the dates above are the point).
  const insert = async (name: keyof SeedResult['inserted'], collection: Models[keyof Models], docs: Record<string, unknown>[]) => {
    const chunk = 500;
    const parts = Array.from({ length: Math.ceil(docs.length / chunk) }, (_, k) => docs.slice(k * chunk, (k + 1) * chunk));
    const t = Date.now();
    await inParallel(parts, 2, async (part) => {
      await collection.collection.insertMany(part as never[], { ordered: false });
    });
    result.inserted[name] = docs.length;
    log(`seed: ${docs.length} ${name} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };
  await insert('assignments', models.assignments, assignments);
  await insert('audit', models.audit, audit);
  await insert('evidence', models.evidence, evidence);
  await insert('outbox', models.outbox, outbox);
  // The emails' slices and days, open: the worker closes them (store/outbox.ts), as it would the app's own.
  await models.outboxBodies.collection.insertMany(bodies as never[], { ordered: false });
  const slices = [...new Set(outbox.map((e) => e.slice as string))];
  const periods = async (collection: Models['outboxSlices'] | Models['outboxDays'], docs: Record<string, unknown>[]) => {
    // A slice of the app's own emails may exist already; it keeps its document.
    await collection.collection.insertMany(docs as never[], { ordered: false }).catch((error: unknown) => {
      if (!(error as { writeErrors?: unknown[] }).writeErrors) throw error;
    });
  };
  await periods(models.outboxSlices, slices.map((slice) => ({ _id: slice, day: slice.slice(0, 10), closed: false })));
  await periods(models.outboxDays, [...new Set(slices.map((slice) => slice.slice(0, 10)))].map((day) => ({ _id: day, closed: false })));
  await input.outboxDaysChanged();
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
