/**
 * The notification policy as the API takes it: offsets are ISO-8601 durations ("P3D", "PT30S") or
 * `{workingDays: n}`; recipients one audience or several.
 */
import { z } from 'zod';
import { Duration } from 'luxon';
import { AUDIENCES, MAX_REPEATS, MAX_STEPS, offsetProblem, type Offset } from '../../domain/policy';

function isZeroOffset(offset: Offset): boolean {
  if (typeof offset === 'object') return offset.workingDays === 0;
  const duration = Duration.fromISO(offset);
  return duration.isValid && duration.as('milliseconds') === 0;
}

export const OffsetSchema = z
  .union([z.string().trim().min(2).max(40), z.strictObject({ workingDays: z.number() })])
  .superRefine((offset, ctx) => {
    const problem = offsetProblem(offset as Offset);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'ISO-8601 duration (P14D, PT30S) or {"workingDays": n}' });

const AudienceSchema = z.enum(AUDIENCES);

export const PolicySchema = z
  .strictObject({
    remindBefore: z.array(OffsetSchema).max(MAX_STEPS, `не больше ${MAX_STEPS} напоминаний`).default([]),
    escalateAfter: z
      .array(
        z.strictObject({
          after: OffsetSchema,
          to: z.union([AudienceSchema, z.array(AudienceSchema).min(1, 'укажите получателей').max(AUDIENCES.length)]),
        }),
      )
      .max(MAX_STEPS, `не больше ${MAX_STEPS} шагов эскалации`)
      .default([]),
    repeat: z
      .strictObject({
        // A zero interval would send every repeat within seconds of the last: a burst, not a reminder.
        every: OffsetSchema.refine((offset) => !isZeroOffset(offset as Offset), 'интервал повторов не может быть нулевым'),
        to: z.union([AudienceSchema, z.array(AudienceSchema).min(1, 'укажите получателей').max(AUDIENCES.length)]),
        times: z.number().int().min(1).max(MAX_REPEATS, `не больше ${MAX_REPEATS} повторов`),
      })
      .optional()
      .meta({ description: 'Повторные напоминания, пока поручение остаётся просроченным' }),
  })
  .meta({ id: 'NotificationPolicy' });
