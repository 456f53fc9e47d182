import {
  type ActorRef,
  type AssignmentState,
  apply,
  computeOverdue,
  initialState,
  markOverdue,
  refusal,
} from '../../domain/assignment';

const executor: ActorRef = { id: 'u1', email: 'executor@example.test', role: 'executor' };
const curator: ActorRef = { id: 'u2', email: 'curator@example.test', role: 'curator' };
const due = '2030-09-30T16:59:59.999Z';
const before = Date.parse(due) - 86_400_000;
const after = Date.parse(due) + 86_400_000;

function submitted(at = before): AssignmentState {
  return apply(initialState(due), { type: 'submit', evidenceId: 'e1', comment: 'Отчёт', files: 1 }, at, executor).state;
}

describe('the assignment state machine', () => {
  it('starts issued, on time, at version 1', () => {
    expect(initialState(due)).toMatchObject({ status: 'issued', overdue: false, due, originalDue: due, version: 1 });
  });

  it('moves to submitted when evidence is sent and counts the submission', () => {
    const state = submitted();
    expect(state).toMatchObject({ status: 'submitted', submissions: 1, version: 2, lastSubmission: { evidenceId: 'e1' } });
  });

  it('refuses an empty submission with a Russian reason', () => {
    expect(refusal(initialState(due), { type: 'submit', evidenceId: 'e', comment: '  ', files: 0 }, before)).toMatch(/комментарий/);
  });

  it('refuses a second submission while the first waits for review', () => {
    expect(refusal(submitted(), { type: 'submit', evidenceId: 'e2', comment: 'ещё', files: 0 }, before)).toMatch(/ожидает проверки/);
  });

  it('accepts evidence sent on time as on time, even when reviewed after the deadline', () => {
    const { state, event } = apply(submitted(before), { type: 'review', decision: 'accept' }, after, curator);
    expect(event).toBe('accepted');
    expect(state).toMatchObject({ status: 'accepted', acceptedLate: false, overdue: false });
  });

  it('marks evidence sent after the deadline as accepted late', () => {
    const { state } = apply(submitted(after), { type: 'review', decision: 'accept' }, after + 1000, curator);
    expect(state.acceptedLate).toBe(true);
  });

  it('requires a comment to return evidence, and counts returns', () => {
    expect(refusal(submitted(), { type: 'review', decision: 'return' }, before)).toMatch(/комментарий/);
    const { state } = apply(submitted(), { type: 'review', decision: 'return', comment: 'Нет приказа' }, before, curator);
    expect(state).toMatchObject({ status: 'returned', returns: 1 });
  });

  it('refuses a review when nothing was submitted', () => {
    expect(refusal(initialState(due), { type: 'review', decision: 'accept' }, before)).toMatch(/Проверять нечего/);
  });

  it('makes a return after the deadline overdue at once', () => {
    const { state } = apply(submitted(before), { type: 'review', decision: 'return', comment: 'Доработать' }, after, curator);
    expect(state.overdue).toBe(true);
  });

  it('is not overdue while evidence sent on time waits for review, but is when sent late', () => {
    expect(computeOverdue(submitted(before), after)).toBe(false);
    expect(computeOverdue(submitted(after), after + 1)).toBe(true);
  });

  it('marks an untouched assignment overdue once, when the deadline passes', () => {
    const state = initialState(due);
    expect(markOverdue(state, before)).toBeUndefined();
    const late = markOverdue(state, after)!;
    expect(late).toMatchObject({ overdue: true, version: 2 });
    expect(markOverdue(late, after + 1)).toBeUndefined();
  });

  it('moves the deadline when an extension is approved and clears overdue', () => {
    const late = markOverdue(initialState(due), after)!;
    const until = new Date(after + 10 * 86_400_000).toISOString();
    const requested = apply(late, { type: 'request-extension', until, reason: 'Болезнь' }, after, executor).state;
    expect(requested.extension).toMatchObject({ until, reason: 'Болезнь', requestedBy: executor });
    const approved = apply(requested, { type: 'decide-extension', approve: true }, after, curator);
    expect(approved.event).toBe('extension-approved');
    expect(approved.state).toMatchObject({ due: until, originalDue: due, overdue: false, extension: null });
  });

  it('keeps the deadline when an extension is rejected, which needs a comment', () => {
    const until = new Date(after).toISOString();
    const requested = apply(initialState(due), { type: 'request-extension', until, reason: 'Причина' }, before, executor).state;
    expect(refusal(requested, { type: 'decide-extension', approve: false }, before)).toMatch(/комментарий/);
    const rejected = apply(requested, { type: 'decide-extension', approve: false, comment: 'Нет' }, before, curator);
    expect(rejected.event).toBe('extension-rejected');
    expect(rejected.state).toMatchObject({ due, extension: null });
  });

  it('refuses an extension to an earlier date, a second pending request, and a decision with no request', () => {
    const earlier = new Date(before - 1000).toISOString();
    expect(refusal(initialState(due), { type: 'request-extension', until: earlier, reason: 'x' }, before - 5000)).toMatch(/позже текущего/);
    const until = new Date(after).toISOString();
    const requested = apply(initialState(due), { type: 'request-extension', until, reason: 'x' }, before, executor).state;
    expect(refusal(requested, { type: 'request-extension', until, reason: 'y' }, before)).toMatch(/уже ожидает/);
    expect(refusal(initialState(due), { type: 'decide-extension', approve: true }, before)).toMatch(/Нет запроса/);
  });

  it('refuses every change once accepted or withdrawn', () => {
    const accepted = apply(submitted(), { type: 'review', decision: 'accept' }, before, curator).state;
    const withdrawn = apply(initialState(due), { type: 'withdraw', reason: 'Отменено' }, before, curator).state;
    for (const closed of [accepted, withdrawn]) {
      expect(refusal(closed, { type: 'withdraw', reason: 'again' }, before)).toMatch(/изменения невозможны/);
      expect(refusal(closed, { type: 'submit', evidenceId: 'x', comment: 'x', files: 0 }, before)).toBeDefined();
      expect(computeOverdue(closed, after)).toBe(false);
    }
  });
});
