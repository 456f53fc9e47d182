/**
 * Protocol import: a curator pastes a protocol or letter, gets draft recommendations read from it
 * (items, deadlines, addressees, source document), corrects what needs correcting, and confirms;
 * the confirmation creates and issues them in one step. Nothing is issued before that. Used by the
 * JSON API and by the pages.
 *
 * The import is stored with its text and drafts. Confirming records, before creating anything,
 * exactly what it will create (recommendation ids derive from the import's id), so a repeated
 * request, a second curator's click or a resumed one after a crash creates nothing twice.
 */
import { randomBytes } from 'node:crypto';
import type { ActorRef } from '../../domain/assignment';
import { isoDateIn, type NonWorkingDayRule } from '../../domain/deadline';
import type { ParsedDeadline } from '../../domain/deadline-phrase';
import { readProtocol, type DocumentRef, type DraftItem } from '../../domain/protocol-reader';
import { loadCalendar } from '../../store/calendar';
import type { ProtocolImport } from '../../store/models';
import type { Repositories } from '../../store/repositories';
import { isDuplicateKey } from '../../store/duplicate-key';
import type { NotificationPolicy } from '../../domain/policy';
import { AppError, badRequest, notFound } from '../errors';
import type { NewRecommendation, RecommendationService } from '../recommendations/service';

export interface Proposal {
  text: string;
  groups: string[];
  assignees: string[];
  deadline: { due: string; recurrence?: { frequency: string } } | null;
}

export interface ReadInput {
  text: string;
  source?: NewRecommendation['source'];
  reference?: string;
}

/** What a curator confirms: the chosen items, each with what they changed in its draft. */
export interface ConfirmInput {
  source?: NewRecommendation['source'];
  items: Array<{
    n: number;
    text?: string;
    assignees?: string[];
    groups?: string[];
    deadline?: NewRecommendation['deadline'];
    policy?: NotificationPolicy;
  }>;
}

interface Drafts {
  source: DocumentRef | null;
  documents: DocumentRef[];
  items: Array<DraftItem & { proposal: Proposal; organizations: number }>;
}

function proposalOf(item: DraftItem): Proposal {
  return { text: item.text, groups: item.addressees.groups, assignees: [], deadline: deadlineProposal(item.deadline) };
}

/** A date deadline is proposed as the date the words name: the working-day rule applies on creation. */
function deadlineProposal(deadline: ParsedDeadline): Proposal['deadline'] {
  if (deadline.kind === 'date') return { due: deadline.nominal };
  if (deadline.kind === 'recurring') return { due: deadline.nominal, recurrence: { frequency: deadline.recurrence.frequency } };
  return null;
}

function sourceInput(doc: DocumentRef): NewRecommendation['source'] {
  return { kind: doc.kind, number: doc.number, date: doc.date, title: doc.title, ...(doc.issuer ? { issuer: doc.issuer } : {}) };
}


export function createImportService({
  repos,
  recommendations,
  timezone,
  rule,
}: {
  repos: Repositories;
  recommendations: RecommendationService;
  timezone: string;
  rule: NonWorkingDayRule;
}) {
  return {
    /** Reads the text into drafts and stores them; a 400 when it holds no item at all. */
    async read(input: ReadInput, actor: ActorRef): Promise<ProtocolImport> {
      const groups = await repos.groups.list();
      const read = readProtocol(input.text, {
        calendar: await loadCalendar(repos),
        timezone,
        rule,
        groups: groups.map((g) => ({ code: g._id, phrases: [g.name, ...g.phrases] })),
        today: input.reference ?? isoDateIn(new Date(), timezone),
      });
      if (read.items.length === 0)
        throw badRequest(
          'В тексте не найдено пунктов с поручениями: ожидаются строки списка («·», «•», «-», «1.», «1)») или предложения со сроком («до 05 октября 2020 г.», «срок – сентябрь 2022 г.»)',
        );
      const sizes = new Map<string, number>();
      for (const g of new Set(read.items.flatMap((i) => i.addressees.groups))) sizes.set(g, (await repos.organizations.list({ group: g })).length);
      const source = input.source ? { ...input.source, title: input.source.title ?? '', words: '' } : read.source;
      const drafts: Drafts = {
        source,
        documents: read.documents,
        items: read.items.map((item) => ({
          ...item,
          proposal: proposalOf(item),
          organizations: item.addressees.groups.reduce((sum, g) => sum + (sizes.get(g) ?? 0), 0),
        })),
      };
      const doc = await repos.imports.create({
        _id: randomBytes(9).toString('base64url'),
        text: input.text,
        reference: input.reference ?? read.reference,
        drafts,
        status: 'draft',
        createdBy: actor,
      });
      await repos.audit.record({ actor, action: 'import-read', entity: { kind: 'import', id: doc._id }, details: { items: drafts.items.length } });
      return doc;
    },

    /** Creates and issues the chosen drafts, once; a 400 listing every problem when any item cannot be. */
    async confirm(id: string, body: ConfirmInput, actor: ActorRef): Promise<ProtocolImport> {
      const found = await repos.imports.get(id);
      if (!found) throw notFound('Импорт не найден');
      let doc: ProtocolImport = found;
      if (doc.status === 'draft') {
        const planned = await plan(doc, body);
        doc = (await repos.imports.claim(doc._id, { by: actor, at: new Date(), recommendations: planned }))!;
      }
      // Whoever claimed first decides what is created; this call completes it if it is not done yet.
      const created = await carryOut(doc, actor);
      if (doc.status !== 'confirmed') {
        await repos.imports.markConfirmed(doc._id);
        await repos.audit.record({ actor, action: 'import-confirmed', entity: { kind: 'import', id: doc._id }, details: { recommendations: created } });
      }
      return (await repos.imports.get(doc._id))!;
    },

    view: toOut,
    list: (page: { limit: number; offset: number }) => repos.imports.list(page),
    async get(id: string): Promise<ProtocolImport> {
      const doc = await repos.imports.get(id);
      if (!doc) throw notFound('Импорт не найден');
      return doc;
    },
  };

  async function toOut(doc: Omit<ProtocolImport, 'text'>) {
    const drafts = doc.drafts as Drafts;
    const created = doc.confirmation
      ? await Promise.all(
          doc.confirmation.recommendations.map(async ({ n, id }) => {
            const rec = await repos.recommendations.get(id);
            // The rows themselves, not the summaries: those follow a moment after issuing.
            const issued = rec ? (await repos.assignments.list({ recommendationId: id }, { limit: 1, offset: 0 })).total : 0;
            return { n, id, status: rec?.status ?? 'pending', assignments: issued };
          }),
        )
      : null;
    // Before confirmation: what the curator should know first (the document entered before, deadlines past).
    const warnings =
      doc.status === 'draft' && drafts.source
        ? await recommendations.warnings(
            sourceInput(drafts.source),
            drafts.items.flatMap(({ proposal }) => (proposal.deadline ? [{ due: proposal.deadline.due, recurring: Boolean(proposal.deadline.recurrence) }] : [])),
          )
        : [];
    return {
      id: doc._id,
      status: doc.status,
      reference: doc.reference,
      source: drafts.source,
      documents: drafts.documents,
      items: drafts.items.map(({ n, original, deadline, addressees, problems, proposal, organizations }) => ({
        n,
        original,
        deadline,
        addressees: { ...addressees, organizations },
        problems,
        proposal,
      })),
      createdAt: (doc.createdAt ?? new Date(0)).toISOString(),
      createdBy: doc.createdBy.email,
      recommendations: created,
      warnings,
    };
  }

  /** Checks every chosen item as creation would, and says all that is wrong at once. */
  async function plan(doc: ProtocolImport, body: ConfirmInput) {
    const drafts = doc.drafts as Drafts;
    const problems: Array<{ path: string; message: string }> = [];
    const planned: Array<{ n: number; id: string; input: NewRecommendation }> = [];
    const seen = new Set<number>();
    const source = body.source ?? (drafts.source ? sourceInput(drafts.source) : undefined);
    if (!source) problems.push({ path: 'body.source', message: 'документ-источник не найден в тексте — укажите вид, номер и дату' });
    for (const [i, item] of body.items.entries()) {
      const at = (field: string) => `body.items.${i}${field ? `.${field}` : ''}`;
      const draft = drafts.items.find((d) => d.n === item.n);
      if (!draft || seen.has(item.n)) {
        problems.push({ path: at('n'), message: draft ? `пункт ${item.n} указан дважды` : `в черновике нет пункта ${item.n}` });
        continue;
      }
      seen.add(item.n);
      const ownAddressees = item.assignees !== undefined || item.groups !== undefined;
      const deadline = item.deadline ?? draft.proposal.deadline;
      if (!deadline) {
        problems.push({ path: at('deadline'), message: `пункт ${item.n}: срок не распознан — укажите его` });
        continue;
      }
      const input: NewRecommendation = {
        source: source ?? { kind: 'letter', number: '-', date: doc.reference },
        text: item.text ?? draft.proposal.text,
        assignees: ownAddressees ? (item.assignees ?? []) : draft.proposal.assignees,
        groups: ownAddressees ? (item.groups ?? []) : draft.proposal.groups,
        deadline: deadline as NewRecommendation['deadline'],
        ...(item.policy ? { policy: item.policy } : {}),
      };
      try {
        const prepared = await recommendations.prepare(input);
        // Groups are taken as they are at confirmation: a resumed confirmation reaches the same organisations.
        planned.push({ n: item.n, id: `${doc._id}-${item.n}`, input: { ...input, assignees: prepared.assignees, groups: [] } });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        const details = Array.isArray(error.details) ? (error.details as Array<{ path: string; message: string }>) : [{ path: '', message: error.message }];
        for (const d of details) problems.push({ path: at(d.path.replace(/^body\.?/, '')), message: `пункт ${item.n}: ${d.message}` });
      }
    }
    if (problems.length > 0) throw new AppError(400, 'validation_failed', 'Проверьте черновики: не все пункты можно выдать', problems);
    return planned;
  }

  /** Creates what the confirmation recorded and is not there yet, then issues it all (idempotent). */
  async function carryOut(doc: ProtocolImport, actor: ActorRef) {
    const created: string[] = [];
    for (const { id, input } of doc.confirmation!.recommendations) {
      if (!(await repos.recommendations.get(id))) {
        try {
          await recommendations.create(input as NewRecommendation, doc.confirmation!.by, { id });
          await repos.audit.record({ actor, action: 'created', entity: { kind: 'recommendation', id }, details: { import: doc._id } });
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      }
      const rec = (await repos.recommendations.get(id))!;
      // Withdrawn between confirmation and now (a resumed confirmation): left as it is.
      if (rec.status !== 'withdrawn') await recommendations.issue(id, doc.confirmation!.by);
      created.push(id);
    }
    return created;
  }

}

export type ImportService = ReturnType<typeof createImportService>;
