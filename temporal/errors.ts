/**
 * Temporal client errors, read the same way by the API and by the activities that talk to other
 * workflows: by type and status code, never by the text of a message.
 */
import { ServiceError, WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';

/** gRPC's status code NOT_FOUND (the client does not re-export grpc-js's enum). */
const GRPC_NOT_FOUND = 5;

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
