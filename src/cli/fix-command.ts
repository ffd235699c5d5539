/**
 * `wpa fix [PATH...]`: fixes the fixable findings of repository checkouts (safe fixes only unless
 * --unsafe-fixes) and prints the unified diff, paths from the repository root so `git apply` takes it there, or
 * writes the files with --write. Exit codes as for analyze, judged on the findings left after fixing. Fixes that
 * pin or bump actions get their refs listed from ACTIONS_GIT_BASE_URL (default https://github.com) first.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type Finding, SEVERITIES } from '../domain/types';
import { atLeast } from '../analysis/engine';
import { allRules } from '../analysis/rules';
import { loadConfig as loadSettings } from '../config';
import { type FixOutcome, fixRepository } from '../fixes/fix-repository';
import { actionRefLookupFor } from '../fixes/git-action-refs';
import { type CliIo, EXIT, UsageError, validated, writeOrFail } from './common';
import { type PreparedTarget, prepareTargets } from './targets';

const fixArgsSchema = z.object({
  format: z.enum(['text', 'json']).default('text'),
  write: z.boolean().default(false),
  rule: z.array(z.string().min(1)).optional(),
  'unsafe-fixes': z.boolean().default(false),
  'job-timeout': z.coerce.number().int().min(1).max(360).optional(),
  config: z.string().min(1).optional(),
  'fail-on': z.enum([...SEVERITIES, 'none']).default('high'),
});

/** The flags only `fix` takes. */
export const FIX_ONLY_FLAGS = ['write', 'rule', 'unsafe-fixes', 'job-timeout'] as const;

function findingJson(finding: Finding): Record<string, unknown> {
  const { ruleId, severity, file, line, column, message, fingerprint } = finding;
  return { ruleId, severity, file, line, column, message, fingerprint };
}

function outcomeJson(target: PreparedTarget, outcome: FixOutcome): Record<string, unknown> {
  return {
    root: target.target.given,
    applied: outcome.applied.map(({ finding, title, safety }) => ({ ...findingJson(finding), title, safety })),
    unfixable: outcome.unfixable.map(({ finding, reason }) => ({ ...findingJson(finding), reason })),
    introduced: outcome.introduced.map(findingJson),
    files: outcome.files.map(({ path }) => path),
    diff: outcome.diff,
  };
}

/** One line per repository for the person at the terminal (standard error, so the diff can be piped). */
function summaryLines(target: PreparedTarget, outcome: FixOutcome, written: boolean): string[] {
  const fixes = outcome.applied.length === 1 ? '1 fix' : `${outcome.applied.length} fixes`;
  const files = outcome.files.length === 1 ? '1 file' : `${outcome.files.length} files`;
  const lines = [`wpa: ${target.target.given}: ${fixes} ${written ? 'written to' : 'in'} ${files}`];
  for (const { finding, reason } of outcome.unfixable) {
    lines.push(`wpa:   not fixed: ${finding.file}:${finding.line}:${finding.column} ${finding.ruleId}: ${reason}`);
  }
  for (const finding of outcome.introduced) {
    lines.push(`wpa:   warning: the fixes bring ${finding.file}:${finding.line}:${finding.column} ${finding.ruleId}: ${finding.message}`);
  }
  return lines;
}

export async function fixCommand(positionals: string[], values: Record<string, unknown>, io: CliIo, foreignFlags: readonly string[]): Promise<number> {
  const misplaced = foreignFlags.find((flag) => values[flag] !== undefined);
  if (misplaced) throw new UsageError(`--${misplaced} does not apply to fix`);
  const args = validated(fixArgsSchema, values);
  const knownRuleIds = new Set(allRules.map((rule) => rule.id));
  const unknownRule = args.rule?.find((id) => !knownRuleIds.has(id));
  if (unknownRule !== undefined) throw new UsageError(`--rule: unknown rule ${unknownRule}`);
  const prepared = prepareTargets(positionals, io.cwd, knownRuleIds, args.config ? resolve(io.cwd, args.config) : undefined);

  const settings = loadSettings(io.env);

  const results: Array<{ target: PreparedTarget; outcome: FixOutcome }> = [];
  for (const target of prepared) {
    const files = target.only ? target.view.workflowFiles.filter((file) => target.only?.includes(file.path)) : target.view.workflowFiles;
    // Pinning needs the action repositories' refs: listed here, before fixing, and only when pinning is selected.
    const actionRefs = await actionRefLookupFor(files, settings, args.rule ? { ruleIds: args.rule } : {});
    const outcome = await fixRepository(target.view, {
      rules: allRules,
      config: target.config,
      actionRefs,
      unsafe: args['unsafe-fixes'],
      ...(actionRefs ? { actionRefs } : {}),
      ...(args.rule ? { ruleIds: args.rule } : {}),
      ...(target.only ? { only: target.only } : {}),
      ...(args['job-timeout'] !== undefined ? { settings: { jobTimeoutMinutes: args['job-timeout'] } } : {}),
    });
    if (args.write) {
      for (const file of outcome.files) writeOrFail('--write', () => writeFileSync(join(target.target.root, file.path), file.after));
    }
    results.push({ target, outcome });
  }

  if (args.format === 'json') {
    io.stdout.write(`${JSON.stringify({ version: 1, repositories: results.map(({ target, outcome }) => outcomeJson(target, outcome)) }, null, 2)}\n`);
  } else {
    if (!args.write) io.stdout.write(results.map(({ outcome }) => outcome.diff).join(''));
    for (const { target, outcome } of results) io.stderr.write(`${summaryLines(target, outcome, args.write).join('\n')}\n`);
  }
  const failOn = args['fail-on'];
  const failing = failOn !== 'none' && results.some(({ outcome }) => outcome.remaining.some((finding) => atLeast(finding.severity, failOn)));
  return failing ? EXIT.findings : EXIT.ok;
}
