import { isGrpcDeadlineError, isGrpcServiceError, ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

/** grpc.status.UNAVAILABLE; @grpc/grpc-js is not a direct dependency. */
const GRPC_UNAVAILABLE = 14;

/** Temporal did not answer in time or cannot be reached: worth a retry, not the caller's fault. */
export function isTemporalUnavailable(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(error)) return true;
  const grpcError = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(grpcError) && Number(grpcError.code) === GRPC_UNAVAILABLE;
}
