/** The messages between a worker and its process spawner (src/process/spawner.ts, src/process/spawner-child.ts). */
import type { ProcessResult, RunProcessOptions } from './run-command';

/** The options of one run as they cross the channel: the abort signal becomes a `cancel` request. */
export type WireRunOptions = Omit<RunProcessOptions, 'signal'>;

/** A process result as it crosses the channel: the start error keeps its message and errno code. */
export type WireResult = Omit<ProcessResult, 'startError'> & { startError?: { message: string; code?: string } };

export type SpawnerRequest =
  | { kind: 'run'; id: number; argv: readonly string[]; options: WireRunOptions }
  | { kind: 'cancel'; id: number };

export type SpawnerReply =
  | { kind: 'ready' }
  | { kind: 'started'; id: number; pid: number }
  | { kind: 'result'; id: number; result: WireResult }
  | { kind: 'failed'; id: number; message: string };
