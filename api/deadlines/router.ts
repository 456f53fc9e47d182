/**
 * Deadline phrases as protocols write them («срок: сентябрь 2023 г., далее – ежегодно») read into
 * deadlines, for curators entering recommendations: what the words name, where the working-day
 * rule puts it, and whether it recurs. Reads nothing but the calendar.
 */
import { Router } from 'express';
import { z } from 'zod';
import { isoDateIn, type NonWorkingDayRule } from '../../domain/deadline';
import { parseDeadlinePhrase } from '../../domain/deadline-phrase';
import { STAFF_ROLES } from '../../domain/roles';
import { loadCalendar } from '../../store/calendar';
import type { Repositories } from '../../store/repositories';
import { requireRole } from '../auth/middleware';
import type { ApiDocs } from '../openapi';
import { isoDate, validate } from '../validate';

const ParseBody = z.strictObject({
  text: z.string().max(2000, 'не больше 2000 знаков'),
  reference: isoDate
    .optional()
    .meta({ description: 'Дата документа: из неё берётся год, если фраза его не называет (по умолчанию сегодня)' }),
});

const Occurrence = z.object({ nominal: z.string(), dueDate: z.string(), due: z.string() });
const ParsedOut = z
  .object({
    kind: z.enum(['date', 'recurring', 'standing', 'unknown']),
    source: z.string().meta({ description: 'Слова текста, из которых прочитан срок' }),
    nominal: z.string().optional(),
    dueDate: z.string().optional(),
    due: z.string().optional(),
    recurrence: z.object({ frequency: z.enum(['yearly', 'quarterly', 'monthly']) }).optional(),
    occurrences: z.array(Occurrence).optional(),
  })
  .meta({ id: 'ParsedDeadline' });

export function createDeadlinesRouter({ repos, docs, timezone, rule }: { repos: Repositories; docs: ApiDocs; timezone: string; rule: NonWorkingDayRule }) {
  const router = Router();

  docs.route('post', '/api/deadlines/parse', {
    summary: 'Прочитать срок из текста протокола или письма',
    tag: 'Сроки',
    roles: STAFF_ROLES,
    body: ParseBody,
    response: { description: 'Прочитанный срок (unknown, если фраза не распознана)', schema: ParsedOut },
  });
  router.post('/parse', requireRole(...STAFF_ROLES), validate({ body: ParseBody }), async (req, res) => {
    const reference = req.body.reference ?? isoDateIn(new Date(), timezone);
    res.json(parseDeadlinePhrase(req.body.text, { reference, calendar: await loadCalendar(repos), timezone, rule }));
  });

  return router;
}
