/**
 * The pages people work in: server-rendered Handlebars, in Russian, with forms that work without
 * JavaScript (a small script adds an upload progress bar). Each page checks the role and the
 * organisation as the JSON API does: an executor asking for another organisation's assignment gets
 * the same 404 page as for one that does not exist.
 *
 * Pages call the same services as the API (assignment updates go to the workflows through them);
 * a form that fails comes back to its page with the reason in Russian.
 */
import type { Client } from '@temporalio/client';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import path from 'node:path';
import { loginLimiter } from '../api/auth/login-limit';
import { z } from 'zod';
import { CLOSED_STATUSES, type AssignmentStatus } from '../domain/assignment';
import { calendarKnown, isoDateIn, isoDateRu, type NonWorkingDayRule } from '../domain/deadline';
import { loadCalendar, missingCalendarYears } from '../store/calendar';
import { pluralRu } from '../domain/russian';
import { READ_ALL_ROLES, STAFF_ROLES, type Actor, type Role } from '../domain/roles';
import type { FileStore } from '../store/files';
import type { AssignmentView } from '../store/models';
import type { Repositories } from '../store/repositories';
import { actorRef } from '../api/auth/middleware';
import { DECOY_HASH, verifyPassword } from '../api/auth/passwords';
import { discardUploads, refuseOversizedUpload } from '../api/assignments/router';
import type { AssignmentService } from '../api/assignments/service';
import { toEvidenceOut, toHistoryOut } from '../api/assignments/service';
import { AppError, RETRY_AFTER_SECONDS, notFound, toAppError } from '../api/errors';
import { contentDisposition, sendEvidenceFile } from '../api/assignments/router';
import { decideExtensionUpdate, reviewUpdate } from '../workflows/definitions';
import type { ImportService } from '../api/imports/service';
import type { RecommendationService } from '../api/recommendations/service';
import { createAdminPages } from './admin';
import { createImportPages } from './imports';
import { createRecommendationPages } from './recommendations';
import { buildReport, reportPeriod, reportWorkbook, rowNames, type RowName } from './report';
import { formOnce, page } from './forms';
import { PAGE_SIZE, pageOf, pager } from './paging';
import { csrf } from './session';
import { withoutNul } from '../api/validate';

export interface WebDeps {
  repos: Repositories;
  assignments: AssignmentService;
  recommendations: RecommendationService;
  imports: ImportService;
  /** For the email log's resend, which runs as a workflow on the worker. */
  temporal: Client;
  taskQueue: string;
  files: FileStore;
  limits: { maxFileBytes: number; maxFiles: number; maxFileMb: number };
  timezone: string;
  nonWorkingDay: NonWorkingDayRule;
  login: { limit: number; windowSeconds: number };
  /** The cookie session, run inside the router so that its failures (the store out) get an error page. */
  session: RequestHandler;
}


const BAD_PERIOD = 'Неверный период: укажите даты «с» и «по», «с» не позже «по»';

/** The executor's list: open work (the default), what is closed, or everything. */
const MY_VIEWS: Array<{ key: string; label: string; order: string; statuses?: AssignmentStatus[] }> = [
  { key: 'open', label: 'В работе', order: 'Сначала просроченные, затем по сроку.', statuses: ['issued', 'returned', 'submitted'] },
  { key: 'closed', label: 'Закрытые', order: 'Принятые и отозванные: сначала с нарушением срока, затем по сроку.', statuses: ['accepted', 'withdrawn'] },
  { key: 'all', label: 'Все', order: 'Сначала с нарушением срока, затем по сроку.' },
];

/** The assignment page's forms: the last part of their action, and the name the page knows them by. */
const REFUSABLE_FORMS: Record<string, string> = { submit: 'submit', extension: 'extension', review: 'review', 'extension-decision': 'decision' };
/** What a refused assignment form sent that the page fills back in. */
const KEPT_FIELDS = ['comment', 'until', 'reason'] as const;

interface RefusedForm {
  form: string;
  values: Partial<Record<(typeof KEPT_FIELDS)[number], string>>;
  error: string;
}

function keptValues(body: unknown): RefusedForm['values'] {
  const sent = (body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(KEPT_FIELDS.flatMap((field) => (typeof sent[field] === 'string' ? [[field, (sent[field] as string).slice(0, 20_000)]] : [])));
}

const HOME: Record<Role, string> = { executor: '/my', curator: '/dashboard', admin: '/admin', observer: '/dashboard' };

const LoginForm = z.object({ email: z.string().trim().toLowerCase().max(200), password: z.string().max(200), next: z.string().max(500).optional() });
const ReviewForm = z.object({ decision: z.enum(['accept', 'return']), comment: z.string().trim().max(10_000).default('') });
const ExtensionForm = z.object({ until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), reason: z.string().trim().min(3).max(5000) });
const DecisionForm = z.object({ approve: z.enum(['yes', 'no']), comment: z.string().trim().max(10_000).default('') });

/**
 * As large as the largest form a person can fill within its fields' limits, so that no form is
 * refused for its size with everything typed lost: a pasted letter (200,000 characters) and the
 * confirmation of its drafts (each item's text up to 20,000) are up to 1.2 MB and a few MB once
 * percent-encoded (six bytes a Cyrillic letter). A recommendation's text of 20,000 Cyrillic
 * letters (120 KB) was refused at 64 KB.
 */
const FORM_BODY_LIMIT = '4mb';
/** Fields of one form: five per item of an import's drafts, and a letter may have a hundred items. */
const FORM_FIELDS_LIMIT = 1000;

/** Only a path on this site: never an absolute URL an attacker planted in ?next=. */
function safeNext(value: string | undefined): string | undefined {
  return value && /^\/(?!\/)[\w\-./?=&%]*$/.test(value) ? value : undefined;
}


export function createWebRouter({ repos, assignments, recommendations, imports, temporal, taskQueue, files, limits, timezone, nonWorkingDay, login, session }: WebDeps) {
  const router = Router();
  router.use('/static', express.static(path.resolve(__dirname, 'public'), { maxAge: '1h', index: false }));
  router.use(session);
  router.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: FORM_FIELDS_LIMIT }));
  // A NUL typed into a form cannot be stored (PostgreSQL under FerretDB): kept as U+FFFD, as in the API.
  router.use((req, _res, next) => {
    if (req.body) req.body = withoutNul(req.body);
    next();
  });
  // Save the session before any redirect: express-session otherwise writes a short response while
  // the save is still under way, and the browser's next request (the page after a login, with the
  // message about what was done) can come before the session it needs is stored.
  router.use((req, res, next) => {
    const redirect = res.redirect.bind(res) as (status: number, url: string) => void;
    res.redirect = ((status: number, url: string) => {
      if (!req.session) return redirect(status, url);
      req.session.save((error) => (error ? next(error) : redirect(status, url)));
    }) as typeof res.redirect;
    next();
  });

  /** The signed-in person, read fresh (a deactivated user is out at once), and the page basics. */
  const signedIn: RequestHandler = (req, res, next) => {
    void (async () => {
      const user = req.session.userId ? await repos.users.get(req.session.userId) : null;
      if (!user || !user.active) {
        if (req.method === 'GET') return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        return res.status(401).render('error', { title: 'Нужен вход', message: 'Сеанс истёк: войдите снова', layout: 'main' });
      }
      req.actor = { id: user._id, email: user.email, name: user.name, role: user.role, organization: user.organization };
      // A signed-in page is never kept: after logout the Back button must not show it again.
      res.set('Cache-Control', 'no-store');
      const org = user.organization ? await repos.organizations.get(user.organization) : null;
      res.locals.user = { ...req.actor, organizationName: org?.name ?? null, staff: STAFF_ROLES.includes(user.role), executor: user.role === 'executor', admin: user.role === 'admin' };
      // Administrators are told of calendar years deadlines need and nobody entered, on every page.
      if (user.role === 'admin' && req.method === 'GET') res.locals.calendarMissing = await missingCalendarYears(repos, isoDateIn(new Date(), timezone));
      res.locals.csrfToken = csrf.generateToken(req);
      res.locals.flash = req.session.flash;
      delete req.session.flash;
      next();
    })().catch(next);
  };
  const only =
    (...roles: readonly Role[]): RequestHandler =>
    (req, _res, next) =>
      next(roles.includes(req.actor!.role) ? undefined : new AppError(403, 'forbidden', 'Эта страница не для вашей роли'));
  const actor = (req: Request): Actor => req.actor!;
  const once = formOnce(repos);
  const flash = (req: Request, kind: 'ok' | 'error', text: string) => void (req.session.flash = { kind, text });

  // --- entry -----------------------------------------------------------------------------------

  router.get('/', signedIn, (req, res) => res.redirect(303, HOME[actor(req).role]));

  router.get('/login', (req, res) => {
    if (req.session.userId) return res.redirect(303, '/');
    res.render('login', { title: 'Вход', csrfToken: csrf.generateToken(req), next: safeNext(String(req.query.next ?? '')), bare: true });
  });

  const limiter = loginLimiter({
    attempts: repos.loginAttempts,
    rate: login,
    handler: (req, res) =>
      res.status(429).render('login', { title: 'Вход', bare: true, csrfToken: csrf.generateToken(req), error: 'Слишком много попыток входа. Подождите и попробуйте снова' }),
  });
  router.post(
    '/login',
    limiter,
    csrf.csrfSynchronisedProtection,
    page(async (req, res) => {
      const form = LoginForm.safeParse(req.body);
      const email = form.success ? form.data.email : '';
      const user = email ? await repos.users.findByEmail(email) : null;
      const valid = await verifyPassword(form.success ? form.data.password : '', user?.passwordHash ?? DECOY_HASH);
      if (!form.success || !user || !valid || !user.active) {
        res.status(401).render('login', { title: 'Вход', bare: true, csrfToken: csrf.generateToken(req), email, error: 'Неверный адрес электронной почты или пароль' });
        return;
      }
      const next = safeNext(form.data.next);
      // A new session id at login: an id planted before it (session fixation) is worthless.
      await new Promise<void>((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())));
      req.session.userId = user._id;
      await repos.audit.record({ actor: { id: user._id, email: user.email, role: user.role }, action: 'signed-in', entity: { kind: 'session', id: user._id }, details: { via: 'page' } });
      res.redirect(303, next ?? HOME[user.role]);
    }),
  );

  router.post('/logout', signedIn, csrf.csrfSynchronisedProtection, (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.redirect(303, '/login')));
  });

  // --- executor ----------------------------------------------------------------------------------

  router.get(
    '/my',
    signedIn,
    only('executor'),
    page(async (req, res) => {
      const organization = actor(req).organization ?? '';
      // Open work unless asked otherwise: what is done stays a click away, not on top.
      const show = MY_VIEWS.find((v) => v.key === req.query.show) ?? MY_VIEWS[0];
      const at = pageOf(req);
      const { items, total } = await repos.assignments.list({ organization, ...(show.statuses ? { statuses: show.statuses } : {}) }, { limit: PAGE_SIZE, offset: at.offset });
      res.render('my', {
        title: 'Мои поручения',
        rows: await decorate(items),
        total,
        show: show.key,
        views: MY_VIEWS.map((v) => ({ ...v, current: v === show, link: v === MY_VIEWS[0] ? '/my' : `/my?show=${v.key}` })),
        pager: pager(req, at, total),
      });
    }),
  );

  // --- staff and observers -----------------------------------------------------------------------

  router.get(
    '/dashboard',
    signedIn,
    only(...READ_ALL_ROLES),
    page(async (req, res) => {
      // All time unless a period is asked for (assignments issued from–to, inclusive).
      const asked = req.query.from || req.query.to;
      const period = asked ? reportPeriod(req.query, timezone) : undefined;
      // A bad period comes back on the form as typed, with all time shown meanwhile.
      const periodError = asked && !period ? { error: BAD_PERIOD, from: String(req.query.from ?? ''), to: String(req.query.to ?? '') } : undefined;
      if (periodError) res.status(400);
      const [{ byOrganization: byOrg, byRecommendation: byRec }, names] = await Promise.all([repos.assignments.discipline(period), rowNames(repos)]);
      // Worst first, then by name; a page of each table at a time.
      type Row = { overdue: number; issued: number; key: string };
      const order = (names: RowName) => (a: Row, b: Row) => b.overdue - a.overdue || b.issued - a.issued || names.compare(a.key, b.key);
      const [orgAt, recAt] = [pageOf(req, 'orgs'), pageOf(req, 'recs')];
      const orgRows = byOrg.sort(order(names.org)).slice(orgAt.offset, orgAt.offset + PAGE_SIZE);
      const recRows = byRec.sort(order(names.rec)).slice(recAt.offset, recAt.offset + PAGE_SIZE);
      const recs = await repos.recommendations.cachedMany(recRows.map((r) => r.key));
      const recText = new Map(recs.filter((r) => r !== null).map((r) => [r._id, r]));
      res.render('dashboard', {
        title: 'Сводка исполнения',
        period: period ?? null,
        periodError,
        organizations: orgRows.map((r) => ({ ...r, name: names.org.name(r.key) })),
        organizationsTotal: byOrg.length,
        organizationsPager: pager(req, orgAt, byOrg.length, 'orgs'),
        recommendations: recRows.map((r) => ({ ...r, text: recText.get(r.key)?.text ?? r.key, source: recText.get(r.key)?.source })),
        recommendationsTotal: byRec.length,
        recommendationsPager: pager(req, recAt, byRec.length, 'recs'),
      });
    }),
  );

  router.get(
    '/review',
    signedIn,
    only(...STAFF_ROLES),
    page(async (req, res) => {
      const at = pageOf(req);
      const { items, total } = await repos.assignments.reviewQueue({ limit: PAGE_SIZE, offset: at.offset });
      res.render('review', { title: 'Отчёты на проверке', rows: await decorate(items), total, pager: pager(req, at, total) });
    }),
  );

  router.get(
    '/extensions',
    signedIn,
    only(...STAFF_ROLES),
    page(async (req, res) => {
      const at = pageOf(req);
      const { items, total } = await repos.assignments.pendingExtensions({ limit: PAGE_SIZE, offset: at.offset });
      res.render('extensions', { title: 'Запросы на продление', rows: await decorate(items), total, pager: pager(req, at, total) });
    }),
  );

  router.get(
    '/reports/discipline',
    signedIn,
    only(...READ_ALL_ROLES),
    page(async (req, res) => {
      const asked = reportPeriod(req.query, timezone);
      // A bad period comes back on the form as typed, with this year so far shown meanwhile.
      const periodError = asked ? undefined : { error: BAD_PERIOD, from: String(req.query.from ?? ''), to: String(req.query.to ?? '') };
      const period = asked ?? reportPeriod({}, timezone)!;
      if (periodError) res.status(400);
      const [orgAt, recAt] = [pageOf(req, 'orgs'), pageOf(req, 'recs')];
      const report = await buildReport(repos, period, {
        organizations: { offset: orgAt.offset, limit: PAGE_SIZE },
        recommendations: { offset: recAt.offset, limit: PAGE_SIZE },
      });
      res.render('report', {
        title: 'Исполнительская дисциплина',
        report,
        periodError,
        organizationsPager: pager(req, orgAt, report.totals.organizations, 'orgs'),
        recommendationsPager: pager(req, recAt, report.totals.recommendations, 'recs'),
      });
    }),
  );
  router.get(
    '/reports/discipline.xlsx',
    signedIn,
    only(...READ_ALL_ROLES),
    page(async (req, res) => {
      const period = reportPeriod(req.query, timezone);
      if (!period) throw new AppError(400, 'bad_request', BAD_PERIOD);
      const book = await reportWorkbook(await buildReport(repos, period));
      res.setHeader('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      res.setHeader('Content-Disposition', contentDisposition(`Дисциплина ${period.from}—${period.to}.xlsx`));
      res.send(book);
    }),
  );

  router.use(createRecommendationPages({ repos, recommendations, timezone, rule: nonWorkingDay, signedIn, only }));
  router.use(createImportPages({ repos, imports, recommendations, signedIn, only }));
  router.use(createAdminPages({ repos, temporal, taskQueue, signedIn, only }));

  // --- one assignment ------------------------------------------------------------------------------

  const load: RequestHandler = (req, res, next) => {
    void assignments
      .visible(String(req.params.id), actor(req))
      .then((view) => {
        res.locals.assignment = view;
        next();
      })
      .catch(next);
  };
  const viewOf = (res: Response) => res.locals.assignment as AssignmentView;
  const backTo = (res: Response) => `/assignments/${encodeURIComponent(viewOf(res)._id)}`;

  /**
   * The assignment's page; after a refused form, that form again with what was typed (files aside:
   * a browser never refills a file input) and the reason beside it.
   */
  async function showAssignment(req: Request, res: Response, status = 200, refused?: RefusedForm): Promise<void> {
    const view = viewOf(res);
    const who = actor(req);
    const [rec, org, history, evidence, calendar] = await Promise.all([
      repos.recommendations.cached(view.recommendationId),
      repos.organizations.get(view.organization),
      repos.audit.forEntity('assignment', view._id),
      repos.evidence.forAssignment(view._id),
      loadCalendar(repos),
    ]);
    // Why the deadline is the day it is: moved off a non-working day, or worked out without its year's calendar.
    const single = rec && !rec.recurrence;
    const dueYear = isoDateIn(view.due, timezone).slice(0, 4);
    const nominal = single ? (rec.deadline.nominal ?? rec.deadline.input) : null;
    const open = !CLOSED_STATUSES.includes(view.status);
    const executor = who.role === 'executor';
    const staff = STAFF_ROLES.includes(who.role);
    res.status(status).render('assignment', {
      title: `Поручение: ${org?.name ?? view.organization}`,
      a: view,
      rec,
      org,
      history: history.map(toHistoryOut).reverse(),
      evidence: evidence.map((doc) => toEvidenceOut(doc, view._id)).reverse(),
      can: {
        submit: executor && (view.status === 'issued' || view.status === 'returned'),
        extend: executor && open && view.status !== 'submitted' && !view.extension,
        review: staff && view.status === 'submitted',
        decide: staff && open && Boolean(view.extension),
      },
      movedFrom: single && rec.deadline.moved ? rec.deadline.nominal : null,
      calendarUnknown: !calendar.covers(Number(dueYear)) ? dueYear : nominal && !calendarKnown(nominal, nominal, calendar) ? nominal.slice(0, 4) : null,
      // The form refused, by its action's name: { values, error }.
      refused: refused ? { [refused.form]: refused } : {},
      today: isoDateIn(new Date(), timezone),
      limits,
    });
  }

  router.get('/assignments/:id', signedIn, load, page(async (req, res) => showAssignment(req, res)));

  router.get(
    '/assignments/:id/files/:fileId',
    signedIn,
    load,
    page(async (req, res) => {
      await sendEvidenceFile(res, { repos, files }, viewOf(res)._id, String(req.params.fileId));
    }),
  );

  const upload = multer({
    dest: files.uploadDir,
    defParamCharset: 'utf8',
    limits: { fileSize: limits.maxFileBytes, files: limits.maxFiles, fields: 5, fieldSize: 64 * 1024, parts: limits.maxFiles + 5 },
  }).array('files');

  /** After an action: JSON for the upload script (it navigates itself), a redirect for a plain form. */
  const done = (req: Request, res: Response, to: string) =>
    req.get('x-requested-with') === 'XMLHttpRequest' ? res.json({ redirect: to }) : res.redirect(303, to);

  router.post(
    '/assignments/:id/submit',
    signedIn,
    only('executor'),
    load,
    refuseOversizedUpload(limits),
    upload,
    once,
    page(async (req, res) => {
      const uploaded = (req.files as Express.Multer.File[] | undefined) ?? [];
      try {
        // The token rides in the multipart body, so it is checked once the body is read, before any file is kept.
        if (!csrf.isRequestValid(req)) throw new AppError(403, 'csrf', 'Форма устарела: обновите страницу и повторите');
        const comment = String((req.body as { comment?: unknown }).comment ?? '').slice(0, 10_000);
        if (!comment.trim() && uploaded.length === 0) throw new AppError(400, 'bad_request', 'Напишите комментарий или приложите файлы');
        await assignments.submitEvidence(viewOf(res), actorRef(actor(req)), comment, uploaded, files);
        const count = uploaded.length ? ` (${uploaded.length} ${pluralRu(uploaded.length, ['файл', 'файла', 'файлов'])})` : '';
        flash(req, 'ok', `Отчёт отправлен на проверку${count}`);
      } finally {
        await discardUploads(uploaded);
      }
      done(req, res, backTo(res));
    }),
  );

  router.post(
    '/assignments/:id/extension',
    signedIn,
    only('executor'),
    csrf.csrfSynchronisedProtection,
    once,
    load,
    page(async (req, res) => {
      const form = ExtensionForm.safeParse(req.body);
      if (!form.success) throw new AppError(400, 'bad_request', 'Укажите новую дату и причину (не короче 3 знаков)');
      const asked = await assignments.requestExtension(viewOf(res), actorRef(actor(req)), form.data, { timezone, rule: nonWorkingDay });
      // A date typed on a day off is moved, and the person is told where to.
      const until = asked.extension ? isoDateIn(new Date(asked.extension.until), timezone) : form.data.until;
      const moved = until !== form.data.until ? ` до ${isoDateRu(until)} (${isoDateRu(form.data.until)} — нерабочий день)` : ` до ${isoDateRu(until)}`;
      flash(req, 'ok', `Запрос на продление срока${moved} отправлен куратору`);
      done(req, res, backTo(res));
    }),
  );

  router.post(
    '/assignments/:id/review',
    signedIn,
    only(...STAFF_ROLES),
    csrf.csrfSynchronisedProtection,
    once,
    load,
    page(async (req, res) => {
      const form = ReviewForm.safeParse(req.body);
      if (!form.success) throw new AppError(400, 'bad_request', 'Выберите решение');
      if (form.data.decision === 'return' && !form.data.comment) throw new AppError(400, 'bad_request', 'При возврате на доработку напишите, что исправить');
      await assignments.update(viewOf(res), reviewUpdate, {
        actor: actorRef(actor(req)),
        decision: form.data.decision,
        ...(form.data.comment ? { comment: form.data.comment } : {}),
      });
      flash(req, 'ok', form.data.decision === 'accept' ? 'Отчёт принят' : 'Отчёт возвращён на доработку');
      done(req, res, backTo(res));
    }),
  );

  router.post(
    '/assignments/:id/extension-decision',
    signedIn,
    only(...STAFF_ROLES),
    csrf.csrfSynchronisedProtection,
    once,
    load,
    page(async (req, res) => {
      const form = DecisionForm.safeParse(req.body);
      if (!form.success) throw new AppError(400, 'bad_request', 'Выберите решение');
      if (form.data.approve === 'no' && !form.data.comment) throw new AppError(400, 'bad_request', 'При отказе напишите причину');
      await assignments.update(viewOf(res), decideExtensionUpdate, {
        actor: actorRef(actor(req)),
        approve: form.data.approve === 'yes',
        ...(form.data.comment ? { comment: form.data.comment } : {}),
      });
      flash(req, 'ok', form.data.approve === 'yes' ? 'Срок продлён' : 'В продлении отказано');
      done(req, res, backTo(res));
    }),
  );

  // --- errors ------------------------------------------------------------------------------------------

  router.get('/{*rest}', (req, res, next) => (req.accepts(['json', 'html']) === 'html' ? next(notFound('Такой страницы нет')) : next()));

  /** A failed form goes back to its page with the reason; anything else gets an error page. */
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const csrfRefused = (error as { code?: string }).code === 'csrf';
    const appError = csrfRefused
      ? new AppError(403, 'csrf', 'Форма устарела: обновите страницу и повторите')
      : toAppError(error, { uploadMaxFileMb: limits.maxFileMb, uploadMaxFiles: limits.maxFiles });
    if (appError.status >= 500) req.log?.error({ err: error }, 'page failed');
    if (res.headersSent) return;
    const form = req.method === 'POST' && res.locals.assignment && appError.status < 500 && appError.status !== 404;
    if (form) {
      if (req.get('x-requested-with') === 'XMLHttpRequest') return void res.status(appError.status).json({ error: appError.message });
      // A form of the page itself: shown again as it was sent. A stale one (csrf) has no page
      // state to keep; it too comes back with what was typed.
      const name = REFUSABLE_FORMS[req.path.split('/').pop() ?? ''];
      if (res.locals.user && name) {
        const uploaded = ((req.files as Express.Multer.File[] | undefined) ?? []).length;
        const refused = { form: name, values: keptValues(req.body), error: appError.message + (uploaded ? ' Выберите файлы заново.' : '') };
        return void showAssignment(req, res, appError.status, refused).catch((failed: unknown) => {
          // The page itself failed: the reason on the page as it is, as before.
          req.log?.error({ err: failed }, 'page failed');
          if (res.headersSent) return;
          flash(req, 'error', appError.message);
          res.redirect(303, backTo(res));
        });
      }
      flash(req, 'error', appError.message);
      return res.redirect(303, backTo(res));
    }
    // The store or Temporal restarting: say so, and how to go on without losing what was typed.
    const unavailable = appError.status === 503;
    if (unavailable) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(appError.status).render('error', {
      title: appError.status === 404 ? 'Не найдено' : unavailable ? 'Сервис временно недоступен' : 'Ошибка',
      message: appError.message,
      status: appError.status,
      bare: !res.locals.user,
      retry: unavailable ? { url: req.method === 'GET' ? req.originalUrl : null, form: req.method !== 'GET' } : null,
    });
  });

  return router;

  /** Rows for a list: the assignment with its recommendation's text and source, and the organisation's name. */
  async function decorate(items: AssignmentView[]) {
    const recIds = [...new Set(items.map((a) => a.recommendationId))];
    const [recs, orgs] = await Promise.all([
      repos.recommendations.cachedMany(recIds),
      repos.organizations.list({ codes: [...new Set(items.map((a) => a.organization))] }),
    ]);
    const recById = new Map(recs.filter((r) => r !== null).map((r) => [r._id, r]));
    const orgByCode = new Map(orgs.map((o) => [o._id, o.name]));
    return items.map((a) => ({
      ...a,
      rec: recById.get(a.recommendationId),
      organizationName: orgByCode.get(a.organization) ?? a.organization,
      waiting: a.status === ('submitted' as AssignmentStatus),
    }));
  }
}
