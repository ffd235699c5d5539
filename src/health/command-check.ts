/**
 * Command health checks: run a configured argv (no shell) in a working directory; exit code 0 is healthy.
 */
import { runCommand } from '../process/run-command';
import type { CommandCheck } from './schemas';
import type { HealthSample } from './types';

/** Output kept per stream; a health command only needs to explain itself in one line. */
const MAX_OUTPUT_BYTES = 8 * 1024;
const MAX_DETAIL_CHARS = 200;

/** The last non-empty line of the command's output: where tools print the reason they failed. */
function lastLine(stdout: string, stderr: string): string {
  const lines = `${stdout}\n${stderr}`.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  const line = lines.at(-1) ?? '';
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS - 3)}...` : line;
}

/** The label of a command check's samples: the program, not its arguments (they may carry secrets). */
export function commandCheckLabel(check: Pick<CommandCheck, 'argv'>): string {
  return `command ${check.argv[0] ?? ''}`;
}

/**
 * Runs the check once. Failures of the command (non-zero exit, timeout, cannot start) are samples with
 * ok: false; only cancellation through `signal` rejects.
 */
export async function runCommandCheck(
  check: CommandCheck,
  options: { cwd: string; signal?: AbortSignal },
): Promise<HealthSample> {
  const at = new Date().toISOString();
  const result = await runCommand(check.argv, {
    cwd: options.cwd,
    timeoutMs: check.timeoutMs,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let detail: string;
  if (result.startError !== undefined) detail = `could not start: ${result.startError}`;
  else if (result.timedOut) detail = `timed out after ${check.timeoutMs} ms`;
  else if (result.exitCode === null) detail = `killed by ${result.signal ?? 'a signal'}`;
  else detail = [`exit code ${result.exitCode}`, lastLine(result.stdout, result.stderr)].filter(Boolean).join(': ');
  return {
    ok: result.exitCode === 0 && !result.timedOut,
    checkType: 'command',
    check: commandCheckLabel(check),
    detail,
    latencyMs: result.durationMs,
    ...(result.exitCode === null ? {} : { exitCode: result.exitCode }),
    at,
  };
}
