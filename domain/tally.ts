/**
 * What one assignment adds to the counts people read (dashboards, reports, recommendation cards,
 * menu counts): a set of counters, each +1. The read model keeps these counts per organisation,
 * per recommendation, per cycle and per day of issue (store/tallies.ts); this module is the one
 * place that says which counter an assignment's state falls into.
 */
import type { AssignmentStatus } from './assignment';

export const TALLY_COUNTERS = [
  'total',
  // by status
  'issued',
  'submitted',
  'returned',
  'accepted',
  'withdrawn',
  /** accepted after the deadline */
  'acceptedLate',
  /** the overdue flag, whatever the status */
  'overdue',
  /** overdue and still with the addressee (issued or returned): "просрочено сейчас" */
  'overdueOpen',
  /** returned for revision at least once */
  'everReturned',
  /** open, with a request for a new deadline waiting */
  'extensionPending',
] as const;

export type TallyCounter = (typeof TALLY_COUNTERS)[number];
export type Counts = Record<TallyCounter, number>;

export interface TalliedState {
  status: AssignmentStatus;
  overdue: boolean;
  acceptedLate: boolean | null;
  returns: number;
  extension: unknown;
}

/** The counters an assignment in this state adds one to, in TALLY_COUNTERS order. */
export function countersOf(state: TalliedState): TallyCounter[] {
  const open = state.status === 'issued' || state.status === 'returned';
  const set = new Set<TallyCounter>(['total', state.status]);
  if (state.status === 'accepted' && state.acceptedLate) set.add('acceptedLate');
  if (state.overdue) set.add('overdue');
  if (state.overdue && open) set.add('overdueOpen');
  if (state.returns > 0) set.add('everReturned');
  if (state.extension && (open || state.status === 'submitted')) set.add('extensionPending');
  return TALLY_COUNTERS.filter((c) => set.has(c));
}

/** A compact, comparable form of a set of counters, as the read model stores it on each row. */
export function signatureOf(counters: readonly TallyCounter[]): string {
  return counters.join(',');
}

export function countersFromSignature(signature: string | null | undefined): TallyCounter[] {
  if (!signature) return [];
  const known = new Set<string>(TALLY_COUNTERS);
  return signature.split(',').filter((c): c is TallyCounter => known.has(c));
}

export function zeroCounts(): Counts {
  return Object.fromEntries(TALLY_COUNTERS.map((c) => [c, 0])) as Counts;
}

/** Adds `sign` to each counter named (in place). */
export function addCounters(counts: Partial<Counts>, counters: readonly TallyCounter[], sign: 1 | -1): void {
  for (const c of counters) counts[c] = (counts[c] ?? 0) + sign;
}

/** Sums partial counts into a full set (in place into `into`, which it returns). */
export function sumInto(into: Counts, ...parts: Array<Partial<Counts> | undefined>): Counts {
  for (const part of parts) if (part) for (const c of TALLY_COUNTERS) into[c] += part[c] ?? 0;
  return into;
}

/**
 * The figures people read, the one definition the dashboard, the report and the recommendation
 * card all use. Every assignment counted is in exactly one of onTime, late, overdue, review, open
 * and withdrawn, so those add up to `total`, and all but withdrawn to `issued`.
 */
export interface Discipline {
  /** Every assignment counted, withdrawn ones too. */
  total: number;
  /** Not withdrawn: «выдано». */
  issued: number;
  /** Accepted by the deadline. */
  onTime: number;
  /** Accepted after it. */
  late: number;
  /** Past the deadline and still with the addressee: «просрочено сейчас». */
  overdue: number;
  /** Evidence waiting for review. */
  review: number;
  /** With the addressee, the deadline not passed: «в работе». */
  open: number;
  withdrawn: number;
  /** Returned for revision at least once (whatever the state now): not a part of the whole. */
  returned: number;
  /** Done on time of those done or overdue, in percent; null when there are none. */
  discipline: number | null;
}

export function disciplineOf(c: Counts): Discipline {
  const onTime = c.accepted - c.acceptedLate;
  const settled = c.accepted + c.overdueOpen;
  return {
    total: c.total,
    issued: c.total - c.withdrawn,
    onTime,
    late: c.acceptedLate,
    overdue: c.overdueOpen,
    review: c.submitted,
    open: c.total - c.accepted - c.withdrawn - c.submitted - c.overdueOpen,
    withdrawn: c.withdrawn,
    returned: c.everReturned,
    discipline: settled > 0 ? Math.round((onTime / settled) * 100) : null,
  };
}
