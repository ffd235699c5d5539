/**
 * The messages of a patch lifecycle run: its query, Guardian Updates and the abort Signal, with their inputs.
 * Shared by the API (which sends them) and every version of the workflow (which handles them).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PatchState } from '../domain/types';

export interface ApproveInput {
  guardian: string;
  comment: string | null;
  /** The Guardian's groups from their token (never from a request body); absent in older Updates. */
  groups?: string[];
}
export interface RejectInput {
  guardian: string;
  reason: string;
}
export interface PauseInput {
  by: string;
  reason: string | null;
}
export interface ResumeInput {
  by: string;
}
export interface AbortInput {
  by: string;
  reason: string;
}

export const patchStatusQuery = defineQuery<PatchState>('status');
export const approveUpdate = defineUpdate<PatchState, [ApproveInput]>('approve');
export const rejectUpdate = defineUpdate<PatchState, [RejectInput]>('reject');
export const pauseUpdate = defineUpdate<PatchState, [PauseInput]>('pause');
export const resumeUpdate = defineUpdate<PatchState, [ResumeInput]>('resume');
/** A signal, not an update: an abort must be accepted even while no worker is running. */
export const abortSignal = defineSignal<[AbortInput]>('abort');
