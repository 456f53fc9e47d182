/**
 * The assignment state machine: one recommendation, one addressee, one cycle.
 * Pure and deterministic: the workflow runs it, the API and tests reason with it.
 */

export const ASSIGNMENT_STATUSES = ['issued', 'submitted', 'returned', 'accepted', 'withdrawn'] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];

export const CLOSED_STATUSES: readonly AssignmentStatus[] = ['accepted', 'withdrawn'];

export interface ActorRef {
  id: string;
  email: string;
  role: string;
}

/** The automatic transitions (deadline timers) are made by this actor. */
export const SYSTEM_ACTOR: ActorRef = { id: 'system', email: 'system', role: 'system' };

export interface ExtensionRequest {
  until: string;
  reason: string;
  requestedAt: string;
  requestedBy: ActorRef;
}

export interface AssignmentState {
  status: AssignmentStatus;
  /** Current deadline, ISO date-time; moves when an extension is approved. */
  due: string;
  originalDue: string;
  overdue: boolean;
  /** Set once accepted: whether the accepted evidence came after the deadline. */
  acceptedLate: boolean | null;
  extension: ExtensionRequest | null;
  lastSubmission: { evidenceId: string; at: string } | null;
  submissions: number;
  returns: number;
  /** Incremented on every change; the read model keeps only the highest it has seen. */
  version: number;
}

export type AssignmentCommand =
  | { type: 'submit'; evidenceId: string; comment: string; files: number }
  | { type: 'review'; decision: 'accept' | 'return'; comment?: string }
  | { type: 'request-extension'; until: string; reason: string }
  | { type: 'decide-extension'; approve: boolean; comment?: string }
  | { type: 'withdraw'; reason: string };

/** What happened, as recorded in the history and the audit trail. */
export type AssignmentEventType =
  | 'issued'
  | 'submitted'
  | 'accepted'
  | 'returned'
  | 'extension-requested'
  | 'extension-approved'
  | 'extension-rejected'
  | 'overdue'
  | 'withdrawn';

export function initialState(due: string): AssignmentState {
  return {
    status: 'issued',
    due,
    originalDue: due,
    overdue: false,
    acceptedLate: null,
    extension: null,
    lastSubmission: null,
    submissions: 0,
    returns: 0,
    version: 1,
  };
}

export function isClosed(state: Pick<AssignmentState, 'status'>): boolean {
  return CLOSED_STATUSES.includes(state.status);
}

/**
 * Overdue: the deadline has passed and the ball is still with the addressee. Evidence sent on time
 * and waiting for review is not overdue: a slow review must not count against the addressee.
 */
export function computeOverdue(state: AssignmentState, now: number): boolean {
  if (isClosed(state)) return false;
  const due = Date.parse(state.due);
  if (now < due) return false;
  if (state.status === 'submitted' && state.lastSubmission && Date.parse(state.lastSubmission.at) <= due) return false;
  return true;
}

const STATUS_RU: Record<AssignmentStatus, string> = {
  issued: 'выдано',
  submitted: 'на проверке',
  returned: 'возвращено на доработку',
  accepted: 'принято',
  withdrawn: 'отозвано',
};

export function statusRu(status: AssignmentStatus): string {
  return STATUS_RU[status];
}

/** Why the command is not allowed now, in Russian; undefined when it is allowed. */
export function refusal(state: AssignmentState, command: AssignmentCommand, now: number): string | undefined {
  if (isClosed(state)) return `Поручение уже ${statusRu(state.status)}: изменения невозможны`;
  switch (command.type) {
    case 'submit':
      if (state.status === 'submitted') return 'Отчёт уже отправлен и ожидает проверки';
      if (!command.comment.trim() && command.files === 0) return 'Добавьте комментарий или хотя бы один файл';
      return undefined;
    case 'review':
      if (state.status !== 'submitted') return `Проверять нечего: поручение в статусе «${statusRu(state.status)}»`;
      if (command.decision === 'return' && !command.comment?.trim()) return 'При возврате на доработку нужен комментарий';
      return undefined;
    case 'request-extension': {
      if (state.extension) return 'Запрос на продление срока уже ожидает решения';
      const until = Date.parse(command.until);
      if (Number.isNaN(until)) return 'Неверная дата нового срока';
      if (until <= Date.parse(state.due)) return 'Новый срок должен быть позже текущего';
      if (until <= now) return 'Новый срок должен быть в будущем';
      if (!command.reason.trim()) return 'Укажите причину продления срока';
      return undefined;
    }
    case 'decide-extension':
      if (!state.extension) return 'Нет запроса на продление срока';
      if (!command.approve && !command.comment?.trim()) return 'При отказе в продлении нужен комментарий';
      return undefined;
    case 'withdraw':
      return undefined;
  }
}

/** Applies an allowed command; returns the new state and the event to record. */
export function apply(
  state: AssignmentState,
  command: AssignmentCommand,
  now: number,
  actor: ActorRef,
): { state: AssignmentState; event: AssignmentEventType } {
  const at = new Date(now).toISOString();
  let next: AssignmentState;
  let event: AssignmentEventType;
  switch (command.type) {
    case 'submit':
      next = {
        ...state,
        status: 'submitted',
        lastSubmission: { evidenceId: command.evidenceId, at },
        submissions: state.submissions + 1,
      };
      event = 'submitted';
      break;
    case 'review':
      if (command.decision === 'accept') {
        const submittedAt = state.lastSubmission ? Date.parse(state.lastSubmission.at) : now;
        next = { ...state, status: 'accepted', acceptedLate: submittedAt > Date.parse(state.due), extension: null };
        event = 'accepted';
      } else {
        next = { ...state, status: 'returned', returns: state.returns + 1 };
        event = 'returned';
      }
      break;
    case 'request-extension':
      next = { ...state, extension: { until: command.until, reason: command.reason, requestedAt: at, requestedBy: actor } };
      event = 'extension-requested';
      break;
    case 'decide-extension':
      if (command.approve && state.extension) {
        next = { ...state, due: new Date(Date.parse(state.extension.until)).toISOString(), extension: null };
        event = 'extension-approved';
      } else {
        next = { ...state, extension: null };
        event = 'extension-rejected';
      }
      break;
    case 'withdraw':
      next = { ...state, status: 'withdrawn', extension: null };
      event = 'withdrawn';
      break;
  }
  next.overdue = computeOverdue(next, now);
  next.version = state.version + 1;
  return { state: next, event };
}

/** The deadline timer fired or time moved on: mark overdue if it now is. */
export function markOverdue(state: AssignmentState, now: number): AssignmentState | undefined {
  if (state.overdue || !computeOverdue(state, now)) return undefined;
  return { ...state, overdue: true, version: state.version + 1 };
}
