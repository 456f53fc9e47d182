/**
 * Business failure types shared by workflows (ApplicationFailure.type) and the API (HTTP mapping).
 * Messages that travel with them are Russian: they reach people unchanged.
 */
export enum FailureType {
  IllegalTransition = 'IllegalTransition',
  InvalidInput = 'InvalidInput',
  AlreadyClosed = 'AlreadyClosed',
  NotFound = 'NotFound',
  /** The weekly digest did not go out by its deadline (workflows/digest.ts). */
  DigestMissed = 'DigestMissed',
}
