import { createCalendar } from '../../domain/calendar';
import { DEFAULT_POLICY, describeOffset, offsetProblem, planSteps, type NotificationPolicy } from '../../domain/policy';

const context = { calendar: createCalendar(), timezone: 'Asia/Tomsk', notifyHour: 9 };
/** End of a day in Tomsk (UTC+7), as a date deadline is stored. */
const endOfDay = (date: string) => new Date(`${date}T23:59:59.999+07:00`);
const nineAm = (date: string) => new Date(`${date}T09:00:00+07:00`).toISOString();
const plan = (policy: NotificationPolicy, due: Date, issuedAt = new Date('2025-01-15T00:00:00Z'), plannedAt = issuedAt) =>
  planSteps(policy, { due, issuedAt, plannedAt }, context);

describe('planning a notification policy', () => {
  it('puts day-granular steps at the notification hour, on working days of the production calendar', () => {
    // 12.05.2025 is a Monday after the May holidays: 08–11.05 were days off in 2025.
    const steps = plan(DEFAULT_POLICY, endOfDay('2025-05-12'));
    expect(steps.map((s) => [s.id, s.at, s.to])).toEqual([
      ['reminder-1', nineAm('2025-04-28'), ['coordinator']],
      // P3D lands on 09.05, a holiday: the working day before. One working day before is the same day.
      ['reminder-2', nineAm('2025-05-07'), ['coordinator']],
      ['reminder-3', nineAm('2025-05-07'), ['coordinator']],
      ['escalation-1', nineAm('2025-05-15'), ['head']],
      ['escalation-2', nineAm('2025-05-22'), ['observers']],
      ...Array.from({ length: 12 }, (_, i) => [`repeat-${i + 1}`, expect.any(String), ['coordinator']]),
    ]);
  });

  it('moves an escalation that lands on a day off to the next working day', () => {
    // 31.12.2024 was a transferred day off; ten days after 21.12.2024 (a Saturday) is 31.12.
    const steps = plan({ remindBefore: [], escalateAfter: [{ after: 'P10D', to: 'head' }] }, endOfDay('2024-12-21'), new Date('2024-12-01T00:00:00Z'));
    expect(steps.map((s) => s.at)).toEqual([nineAm('2025-01-09')]);
  });

  it('takes durations with a time part literally, for seconds-scale tests and same-day deadlines', () => {
    const due = new Date('2030-03-04T05:06:07.000Z');
    const steps = plan(
      { remindBefore: ['PT6S', 'PT3S'], escalateAfter: [{ after: 'PT3S', to: 'head' }, { after: 'PT1M', to: ['observers', 'curator', 'observers'] }] },
      due,
      new Date('2030-03-04T05:00:00Z'),
    );
    expect(steps.map((s) => [s.id, s.at, s.to])).toEqual([
      ['reminder-1', '2030-03-04T05:06:01.000Z', ['coordinator']],
      ['reminder-2', '2030-03-04T05:06:04.000Z', ['coordinator']],
      ['escalation-1', '2030-03-04T05:06:10.000Z', ['head']],
      ['escalation-2', '2030-03-04T05:07:07.000Z', ['observers', 'curator']],
    ]);
  });

  it('leaves out reminders already past when planned, and reminders at or after the deadline', () => {
    // Due at 08:00: a reminder "0 days before" would go out at 09:00, after the deadline.
    const due = new Date('2025-05-12T08:00:00+07:00');
    const steps = plan({ remindBefore: ['P14D', 'P3D', 'P0D'], escalateAfter: [] }, due, new Date('2025-05-01T00:00:00Z'));
    expect(steps.map((s) => s.id)).toEqual(['reminder-2']);
  });

  it('measures escalation from the issue when an assignment was issued already late', () => {
    const issuedAt = new Date('2025-06-02T03:00:00Z'); // Monday 10:00 in Tomsk
    const steps = plan({ remindBefore: ['P3D'], escalateAfter: [{ after: { workingDays: 3 }, to: 'head' }, { after: 'PT0S', to: 'curator' }] }, endOfDay('2022-09-30'), issuedAt);
    expect(steps.map((s) => [s.id, s.at])).toEqual([
      ['escalation-2', issuedAt.toISOString()],
      ['escalation-1', nineAm('2025-06-05')],
    ]);
  });

  it('never puts an escalation before the deadline, even at zero days after it', () => {
    const due = endOfDay('2025-05-12');
    const [step] = plan({ remindBefore: [], escalateAfter: [{ after: 'P0D', to: 'head' }] }, due);
    expect(Date.parse(step.at)).toBeGreaterThanOrEqual(due.getTime());
  });
});

describe('repeats while late', () => {
  it('come after the last escalation step, a step each, as many as the policy says', () => {
    const steps = plan(
      { remindBefore: [], escalateAfter: [{ after: { workingDays: 3 }, to: 'head' }], repeat: { every: 'P7D', to: ['coordinator', 'head'], times: 3 } },
      endOfDay('2025-05-12'),
    );
    expect(steps.map((s) => [s.id, s.at, s.to])).toEqual([
      ['escalation-1', nineAm('2025-05-15'), ['head']],
      ['repeat-1', nineAm('2025-05-22'), ['coordinator', 'head']],
      ['repeat-2', nineAm('2025-05-29'), ['coordinator', 'head']],
      ['repeat-3', nineAm('2025-06-05'), ['coordinator', 'head']],
    ]);
  });

  it('count from the deadline without escalation steps, and never pile onto one instant', () => {
    const due = new Date('2030-03-04T05:06:07.000Z');
    const steps = plan({ remindBefore: [], escalateAfter: [], repeat: { every: 'PT0S', to: 'coordinator', times: 2 } }, due, new Date('2030-03-01T00:00:00Z'));
    expect(steps.map((s) => s.at)).toEqual(['2030-03-04T05:06:08.000Z', '2030-03-04T05:06:09.000Z']);
  });

  it('are in the default policy: weekly in working days, to the coordinators', () => {
    const repeats = plan(DEFAULT_POLICY, endOfDay('2025-05-12')).filter((s) => s.kind === 'repeat');
    expect(repeats).toHaveLength(12);
    expect(repeats[0].at).toBe(nineAm('2025-05-29')); // five working days after 22.05 (the observers' step)
  });
});

describe('offsets', () => {
  it.each([['P14D'], ['PT30S'], ['P1W'], ['P1M'], [{ workingDays: 0 }], [{ workingDays: 3 }]])('accepts %j', (offset) => {
    expect(offsetProblem(offset)).toBeUndefined();
  });

  it.each([['14 days'], ['P'], ['P-3D'], ['P2Y'], [{ workingDays: -1 }], [{ workingDays: 1.5 }], [{ workingDays: 1000 }]])('refuses %j with a Russian reason', (offset) => {
    expect(offsetProblem(offset)).toMatch(/[а-я]/);
  });

  it('describes offsets as people say them', () => {
    expect(describeOffset('P14D')).toBe('14 дней');
    expect(describeOffset('P1D')).toBe('1 день');
    expect(describeOffset({ workingDays: 3 })).toBe('3 рабочих дня');
    expect(describeOffset('PT30S')).toBe('PT30S');
  });
});
