// Business ids: workflow ids derive from them, so issuing twice can never start twice.

export const ORG_CODE_PATTERN = /^[a-z0-9][a-z0-9-]{1,63}$/;
export const RECOMMENDATION_ID_PATTERN = /^[A-Za-z0-9_-]{6,40}$/;
export const ASSIGNMENT_ID_PATTERN = /^([A-Za-z0-9_-]{6,40})\.([a-z0-9][a-z0-9-]{1,63})\.([0-9]{1,4})$/;

/** The cycle of a one-off recommendation's assignments, and the first of a recurring one's. */
export const FIRST_CYCLE = 1;

export interface AssignmentKey {
  recommendationId: string;
  organization: string;
  cycle: number;
}

/** The id clients see: URL-safe, `<recommendation>.<organization>.<cycle>`. */
export function assignmentId({ recommendationId, organization, cycle }: AssignmentKey): string {
  return `${recommendationId}.${organization}.${cycle}`;
}

export function parseAssignmentId(id: string): AssignmentKey | undefined {
  const match = ASSIGNMENT_ID_PATTERN.exec(id);
  if (!match) return undefined;
  return { recommendationId: match[1], organization: match[2], cycle: Number(match[3]) };
}

export function assignmentWorkflowId(key: AssignmentKey): string {
  return `assignment/${key.recommendationId}/${key.organization}/${key.cycle}`;
}

export function recommendationWorkflowId(recommendationId: string): string {
  return `recommendation/${recommendationId}`;
}
