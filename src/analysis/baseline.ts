/**
 * Baselines: a JSON list of finding fingerprints accepted as known. Findings whose fingerprint is in the baseline
 * are not reported, so a repository can adopt the analyzer and fail only on new findings.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { Finding } from '../domain/types';

const baselineSchema = z.array(z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 fingerprint'));

/** Thrown for a baseline file that cannot be read or is not a list of fingerprints. */
export class BaselineError extends Error {
  override readonly name = 'BaselineError';
}

/** The baseline file text for these findings: sorted, unique, one fingerprint per line. */
export function serializeBaseline(findings: readonly Pick<Finding, 'fingerprint'>[]): string {
  const fingerprints = [...new Set(findings.map((finding) => finding.fingerprint))].sort();
  return `${JSON.stringify(fingerprints, null, 2)}\n`;
}

export function parseBaseline(text: string, source: string): ReadonlySet<string> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new BaselineError(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = baselineSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? `[${issue.path.map(String).join('.')}]` : '';
    throw new BaselineError(`${source}${at}: ${issue?.message ?? 'invalid'} (a baseline is a JSON list of fingerprints)`);
  }
  return new Set(parsed.data);
}

export function readBaseline(path: string): ReadonlySet<string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BaselineError(`${path}: cannot read baseline: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseBaseline(text, path);
}

export function writeBaseline(path: string, findings: readonly Pick<Finding, 'fingerprint'>[]): void {
  writeFileSync(path, serializeBaseline(findings));
}
