/**
 * The notification policy as the API takes it: offsets are ISO-8601 durations ("P3D", "PT30S") or
 * `{workingDays: n}`; recipients one audience or several.
 */
import { z } from 'zod';
import { AUDIENCES, MAX_REPEATS, MAX_STEPS, MAX_WORKING_DAYS, offsetProblem, type Offset } from '../../domain/policy';

/**
 * The offsets the API takes, as one pattern the document carries too: a whole number of one unit,
 * no longer than the domain's limit (366 days), so that every offset the pattern admits is valid.
 * `nonZero` leaves out the zero offsets (an interval between repeats cannot be zero).
 */
export function durationPattern({ nonZero, minSeconds10 = false }: { nonZero: boolean; minSeconds10?: boolean }): RegExp {
  const digit = nonZero ? '[1-9]' : '\\d';
  const days = `(?:36[0-6]|3[0-5]\\d|[12]\\d\\d|[1-9]\\d|${digit})`;
  const weeks = `(?:5[0-2]|[1-4]\\d|${digit})`;
  const months = `(?:1[0-2]|${digit})`;
  const years = nonZero ? '1' : '[01]';
  const upTo = (digits: number) => `(?:[1-9]\\d{1,${digits - 1}}|${digit})`;
  const seconds = minSeconds10 ? '[1-9]\\d{1,6}' : upTo(7);
  return new RegExp(`^P(?:${days}D|${weeks}W|${months}M|${years}Y|T(?:${upTo(3)}H|${upTo(5)}M|${seconds}S))$`);
}
const DURATION_HINT = 'одной единицей (например, P14D, P2W, P1M, P1Y, PT12H, PT30M, PT30S), не больше 366 дней';

function offsetSchema({ nonZero }: { nonZero: boolean }) {
  return z
    .union([
      z.string().regex(durationPattern({ nonZero }), {
        error: (issue) =>
          nonZero && /^P0+[DWMY]$|^PT0+[HMS]$/.test(String(issue.input))
            ? 'интервал повторов не может быть нулевым'
            : `«${String(issue.input)}» — не длительность ISO 8601 ${DURATION_HINT}`,
      }),
      z.strictObject({
        workingDays: z
          .number()
          .int()
          .min(nonZero ? 1 : 0, nonZero ? 'интервал повторов не может быть нулевым' : undefined)
          .max(MAX_WORKING_DAYS, `рабочих дней должно быть от 0 до ${MAX_WORKING_DAYS}`),
      }),
    ])
    .superRefine((offset, ctx) => {
      // The pattern admits only valid offsets; the domain's own check stays the one rule.
      const problem = offsetProblem(offset as Offset);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description: 'Длительность ISO 8601 одной единицей (P14D, P2W, P1M, P1Y, PT12H, PT30M, PT30S) или {"workingDays": n}' });
}

export const OffsetSchema = offsetSchema({ nonZero: false });

const AudienceSchema = z.enum(AUDIENCES);

function policySchema<O extends z.ZodType<Offset>>(offset: O, interval: O) {
  return z.strictObject({
    remindBefore: z.array(offset).max(MAX_STEPS, `не больше ${MAX_STEPS} напоминаний`).default([]),
    escalateAfter: z
      .array(
        z.strictObject({
          after: offset,
          to: z.union([AudienceSchema, z.array(AudienceSchema).min(1, 'укажите получателей').max(AUDIENCES.length)]),
        }),
      )
      .max(MAX_STEPS, `не больше ${MAX_STEPS} шагов эскалации`)
      .default([]),
    repeat: z
      .strictObject({
        every: interval,
        to: z.union([AudienceSchema, z.array(AudienceSchema).min(1, 'укажите получателей').max(AUDIENCES.length)]),
        times: z.number().int().min(1).max(MAX_REPEATS, `не больше ${MAX_REPEATS} повторов`),
      })
      .optional()
      .meta({ description: 'Повторные напоминания, пока поручение остаётся просроченным' }),
  });
}

// A zero interval would send every repeat within seconds of the last: a burst, not a reminder.
export const PolicySchema = policySchema(OffsetSchema, offsetSchema({ nonZero: true })).meta({ id: 'NotificationPolicy' });

/**
 * A policy as the API shows one: offsets as they were stored, which may be written in any ISO 8601
 * form an earlier version took (P1DT12H), so the answer promises less than the input demands.
 */
export const StoredOffset = z.union([z.string(), z.object({ workingDays: z.number() })]);
export const PolicyOut = policySchema(StoredOffset, StoredOffset).meta({ id: 'StoredNotificationPolicy' });
