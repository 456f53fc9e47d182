/**
 * The protocol import as pages: paste the text, review the drafts (include or leave out each item,
 * correct its text, addressee group and deadline), confirm: the same service as the JSON API, so a
 * confirmation here creates nothing twice either.
 */
import { Router, type RequestHandler } from 'express';
import { STAFF_ROLES, type Role } from '../domain/roles';
import { actorRef } from '../api/auth/middleware';
import { AppError } from '../api/errors';
import type { ConfirmInput, ImportService } from '../api/imports/service';
import { warningsKey, type RecommendationService } from '../api/recommendations/service';
import type { DocumentRef } from '../domain/protocol-reader';
import type { Repositories } from '../store/repositories';
import { formOnce, FREQUENCY_RU, page } from './forms';
import { csrf } from './session';


export function createImportPages({
  repos,
  imports,
  recommendations,
  signedIn,
  only,
}: {
  repos: Repositories;
  imports: ImportService;
  recommendations: RecommendationService;
  signedIn: RequestHandler;
  only: (...roles: readonly Role[]) => RequestHandler;
}) {
  const router = Router();
  const staff = [signedIn, only(...STAFF_ROLES)];

  router.get('/imports/new', ...staff, (_req, res) => res.render('import-new', { title: 'Импорт протокола' }));

  router.post(
    '/imports/new',
    ...staff,
    csrf.csrfSynchronisedProtection,
    formOnce(repos),
    page(async (req, res) => {
      const text = String((req.body as { text?: unknown }).text ?? '');
      try {
        if (text.trim().length < 20) throw new AppError(400, 'bad_request', 'Вставьте текст протокола или письма');
        if (text.length > 200_000) throw new AppError(400, 'bad_request', 'Текст длиннее 200 000 знаков');
        const doc = await imports.read({ text }, actorRef(req.actor!));
        res.redirect(303, `/imports/${encodeURIComponent(doc._id)}`);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        res.status(error.status).render('import-new', { title: 'Импорт протокола', text, errors: [error.message] });
      }
    }),
  );

  router.get(
    '/imports/:id',
    ...staff,
    page(async (req, res) => res.render('import', await viewData(String(req.params.id)))),
  );

  router.post(
    '/imports/:id/confirm',
    ...staff,
    csrf.csrfSynchronisedProtection,
    formOnce(repos),
    page(async (req, res) => {
      const id = String(req.params.id);
      const body = req.body as Record<string, string | undefined>;
      const doc = await imports.get(id);
      const drafts = (await imports.view(doc)).items;
      const input: ConfirmInput = {
        source: typedSource(body, (doc.drafts as { source: DocumentRef | null }).source),
        items: drafts
          .filter((d) => body[`include-${d.n}`] === 'on')
          .map((d) => {
            const group = body[`group-${d.n}`];
            const due = body[`due-${d.n}`];
            const recurrence = body[`recurrence-${d.n}`];
            return {
              n: d.n,
              text: String(body[`text-${d.n}`] ?? d.proposal.text).trim(),
              groups: group ? [group] : [],
              assignees: [],
              ...(due ? { deadline: { due, ...(recurrence ? { recurrence: { frequency: recurrence as 'yearly' } } : {}) } } : {}),
            };
          }),
      };
      try {
        if (input.items.length === 0) throw new AppError(400, 'bad_request', 'Отметьте хотя бы один пункт');
        // The document imported before, or deadlines past: shown, and issued only once confirmed.
        const warnings = await warningsFor(input.source!, input.items.map((item) => ({ due: item.deadline?.due, recurrence: item.deadline?.recurrence?.frequency })));
        if (warnings.length > 0 && body.acknowledge !== warningsKey(warnings)) {
          res.status(409).render('import', { ...(await viewData(id, body)), warnings, warningsKey: warningsKey(warnings) });
          return;
        }
        const confirmed = await imports.confirm(id, input, actorRef(req.actor!));
        const created = (await imports.view(confirmed)).recommendations ?? [];
        req.session.flash = { kind: 'ok', text: `Выдано рекомендаций: ${created.length}, поручений: ${created.reduce((n, r) => n + r.assignments, 0)}` };
        res.redirect(303, `/imports/${encodeURIComponent(id)}`);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500 || error.status === 404) throw error;
        const details = Array.isArray(error.details) ? (error.details as Array<{ message: string }>).map((d) => d.message) : [];
        res.status(error.status).render('import', { ...(await viewData(id, body)), errors: details.length ? details : [error.message] });
      }
    }),
  );

  /** The drafts as a form, with what the curator typed when a confirmation came back refused. */
  async function viewData(id: string, typed?: Record<string, string | undefined>) {
    const out = await imports.view(await imports.get(id));
    const groups = await repos.groups.list();
    const source = typed ? { kind: typed.kind, number: typed.number, date: typed.date, title: typed.title } : (out.source ?? { kind: 'protocol', number: '', date: '', title: '' });
    const items = out.items.map((item) => {
      const proposal = item.proposal;
      const group = typed ? typed[`group-${item.n}`] : proposal.groups[0];
      return {
        ...item,
        include: typed ? typed[`include-${item.n}`] === 'on' : item.problems.length === 0,
        text: typed?.[`text-${item.n}`] ?? proposal.text,
        due: typed ? typed[`due-${item.n}`] : (proposal.deadline?.due ?? ''),
        recurrence: typed ? typed[`recurrence-${item.n}`] : (proposal.deadline?.recurrence?.frequency ?? ''),
        groups: groups.map((g) => ({ code: g._id, name: g.name, selected: g._id === group })),
        frequencies: ['yearly', 'quarterly', 'monthly'].map((value) => ({ value, label: FREQUENCY_RU[value] })),
      };
    });
    // Shown with the drafts, for the items to be issued as they stand, as the confirmation will check them.
    const warnings =
      out.status === 'draft' && source.number && source.date
        ? await warningsFor(typed ? typedSource(typed, out.source) : (source as DocumentRef), items.filter((i) => i.include))
        : [];
    return { title: 'Черновики импорта', imp: out, confirmed: out.status !== 'draft', source, items, warnings, warningsKey: warningsKey(warnings) };
  }

  /** What to confirm before issuing these items from this document (see RecommendationService.warnings). */
  const warningsFor = (source: NonNullable<ConfirmInput['source']>, items: Array<{ due?: string; recurrence?: string }>) =>
    recommendations.warnings(
      source,
      items.flatMap((item) => (item.due ? [{ due: item.due, recurring: Boolean(item.recurrence) }] : [])),
    );

  return router;
}

/**
 * The source document as the form sends it. The issuer is not on the form: the one read from the
 * text stays while the document is the one read, so the same protocol is the same document.
 */
function typedSource(body: Record<string, string | undefined>, read: DocumentRef | null): NonNullable<ConfirmInput['source']> {
  const source = { kind: body.kind === 'letter' ? ('letter' as const) : ('protocol' as const), number: String(body.number ?? '').trim(), date: String(body.date ?? ''), title: String(body.title ?? '').trim() };
  const same = read && read.kind === source.kind && read.number === source.number && read.date === source.date;
  return { ...source, ...(same && read.issuer ? { issuer: read.issuer } : {}) };
}
