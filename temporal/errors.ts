/**
 * Temporal client errors, read the same way by the API and by the activities that talk to other
 * workflows: by type and status code, never by the text of a message.
 */
import { ServiceError, WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';

/** gRPC's status codes (the client does not re-export grpc-js's enum). */
const GRPC_NOT_FOUND = 5;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/**
 * The workflow run an update was sent to had ended (or never was): the server answers NOT_FOUND
 * ("workflow execution already completed" among them), which the client raises as
 * WorkflowNotFoundError, or as a ServiceError around the gRPC error on paths that do not
 * translate it.
 */
export function isEndedRunError(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  const cause = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(cause) && cause.code === GRPC_NOT_FOUND;
}

/**
 * The Temporal server could not be reached or did not answer in time (it is restarting, or its
 * database is): a condition that passes, not a fault of the request.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  const cause = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(cause) && (cause.code === GRPC_UNAVAILABLE || cause.code === GRPC_DEADLINE_EXCEEDED);
}
