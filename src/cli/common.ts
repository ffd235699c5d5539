/** What every `wpa` command shares: its input and output, exit codes, and how a caller's mistake is reported. */
import type { z } from 'zod';

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

export const EXIT = { ok: 0, findings: 1, usage: 2, internal: 3 } as const;

/** A mistake of the caller: reported as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command's flags parsed with `schema`, or a UsageError naming the first wrong flag. */
export function validated<T extends z.ZodType>(schema: T, values: unknown): z.output<T> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const flag = issue?.path[0] !== undefined ? `--${String(issue.path[0])}` : 'arguments';
  throw new UsageError(`${flag}: ${issue?.message ?? 'invalid value'}`);
}

/** Runs a file write; an unwritable target is the caller's mistake, reported as a usage error. */
export function writeOrFail(flag: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    throw new UsageError(`${flag}: cannot write: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
