/**
 * The process spawner: a small Node process a worker forks once and asks, over its IPC channel, to run programs
 * (src/process/spawner.ts is the worker's side). It loads nothing but run-command, so its own fork per program costs
 * ~2 ms and blocks nobody, where the worker's would freeze the worker for ~25 ms. It ignores SIGINT and SIGTERM
 * (the terminal's Ctrl-C reaches the whole group, and a worker drains its activities after it) and ends when the
 * worker disconnects, killing the process groups of what it still runs.
 */
import { killProcessGroup, type ProcessResult, runProcessHere } from './run-command';
import type { SpawnerReply, SpawnerRequest, WireResult } from './spawner-protocol';

const running = new Map<number, { controller: AbortController; pid?: number }>();

function send(reply: SpawnerReply): void {
  // The worker may be gone between a process's end and this reply: nothing is left to tell.
  if (process.connected) process.send?.(reply);
}

function toWire(result: ProcessResult): WireResult {
  const { startError, ...rest } = result;
  if (startError === undefined) return rest;
  const code = (startError as NodeJS.ErrnoException).code;
  return { ...rest, startError: { message: startError.message, ...(code === undefined ? {} : { code }) } };
}

function run(request: Extract<SpawnerRequest, { kind: 'run' }>): void {
  const controller = new AbortController();
  const entry: { controller: AbortController; pid?: number } = { controller };
  running.set(request.id, entry);
  const onStart = (pid: number): void => {
    entry.pid = pid;
    send({ kind: 'started', id: request.id, pid });
  };
  runProcessHere(request.argv, { ...request.options, signal: controller.signal }, onStart).then(
    (result) => send({ kind: 'result', id: request.id, result: toWire(result) }),
    (error: unknown) => send({ kind: 'failed', id: request.id, message: error instanceof Error ? error.message : String(error) }),
  ).finally(() => running.delete(request.id));
}

process.on('message', (request: SpawnerRequest) => {
  if (request.kind === 'run') run(request);
  else running.get(request.id)?.controller.abort(new Error('cancelled by the worker'));
});

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);

process.on('disconnect', () => {
  for (const { pid } of running.values()) if (pid !== undefined) killProcessGroup(pid, 'SIGKILL');
  process.exit(0);
});

send({ kind: 'ready' });
