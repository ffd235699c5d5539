/**
 * Command health checks: run a configured argv (no shell) in the sandbox on a copy of a checkout; exit code 0 is
 * healthy.
 */
import type { SandboxSettings } from '../domain/types';
import { runSandboxed, type SandboxConfig, type SandboxedResult, SandboxUnavailableError } from '../sandbox';
import { commandOutputForPeople } from '../security/redact';
import type { CommandCheck } from './schemas';
import type { HealthSample } from './types';

export interface CommandCheckOptions {
  /** The checkout the command checks; it runs on a sandboxed copy. */
  cwd: string;
  /** The target's sandbox settings: network access and the only variables the command gets. */
  settings: SandboxSettings;
  /** How the worker sandboxes commands (config.sandbox). */
  sandbox: SandboxConfig;
  signal?: AbortSignal;
}

/** Output kept per stream; a health command only needs to explain itself in one line. */
const MAX_OUTPUT_BYTES = 8 * 1024;
const MAX_DETAIL_CHARS = 200;

/** The last non-empty line of the command's output: where tools print the reason they failed. */
function lastLine(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  const line = lines.at(-1) ?? '';
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS - 3)}...` : line;
}

/** The label of a command check's samples: the program, not its arguments (they may carry secrets). */
export function commandCheckLabel(check: Pick<CommandCheck, 'argv'>): string {
  return `command ${check.argv[0] ?? ''}`;
}

/**
 * Runs the check once. Failures of the command (non-zero exit, timeout, cannot start, no sandbox) are samples with
 * ok: false; only cancellation through `signal` rejects. The detail has the target's declared variables and
 * recognized credentials redacted.
 */
export async function runCommandCheck(check: CommandCheck, options: CommandCheckOptions): Promise<HealthSample> {
  const sample = { checkType: 'command', check: commandCheckLabel(check), at: new Date().toISOString() } as const;
  let result: SandboxedResult;
  try {
    result = await runSandboxed(check.argv, {
      sourceDir: options.cwd,
      settings: options.settings,
      config: options.sandbox,
      timeoutMs: check.timeoutMs,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      signal: options.signal,
    });
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    return { ...sample, ok: false, detail: `did not run: ${error.message}`, latencyMs: 0 };
  }
  let detail: string;
  if (result.startError !== undefined) detail = `could not start: ${result.startError}`;
  else if (result.timedOut) detail = `timed out after ${check.timeoutMs} ms`;
  else if (result.exitCode === null) detail = `killed by ${result.signal ?? 'a signal'}`;
  else {
    // Redacted before lastLine shortens it, so a cut never leaves a secret's unrecognizable remainder.
    const output = commandOutputForPeople(`${result.stdout}\n${result.stderr}`, options.settings.env);
    detail = [`exit code ${result.exitCode}`, lastLine(output)].filter(Boolean).join(': ');
  }
  return {
    ...sample,
    ok: result.exitCode === 0 && !result.timedOut,
    detail: result.isolation === 'unsandboxed' ? `${detail} (ran without a sandbox)` : detail,
    latencyMs: result.durationMs,
    ...(result.exitCode === null ? {} : { exitCode: result.exitCode }),
  };
}
