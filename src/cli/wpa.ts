/**
 * The `wpa` command line: `wpa analyze [PATH...]` analyzes repository checkouts (or single workflow files) and
 * prints findings as text, JSON or SARIF; `wpa fix [PATH...]` fixes them; `wpa rules` lists the rules; `wpa audit verify` verifies the service's
 * audit trail. bin/wpa.js calls main().
 *
 * Exit codes: 0 no finding at or above --fail-on (audit verify: intact), 1 such findings (audit verify: tampering
 * found), 2 usage or configuration error, 3 internal error.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CATEGORIES, SEVERITIES, type Category } from '../domain/types';
import { BaselineError, readBaseline, writeBaseline } from '../analysis/baseline';
import { ConfigError } from '../analysis/config';
import { CATEGORY_TITLES } from '../analysis/docs';
import { analyzeRepository, atLeast } from '../analysis/engine';
import { formatJson } from '../analysis/formats/json';
import type { AnalysisReport, RepositoryReport } from '../analysis/formats/report';
import { formatSarif } from '../analysis/formats/sarif';
import { formatText } from '../analysis/formats/text';
import type { Rule } from '../analysis/rule';
import { allRules } from '../analysis/rules';
import { ConfigError as SettingError } from '../config';
import { auditCommand } from './audit-command';
import { FIX_ONLY_FLAGS, fixCommand } from './fix-command';
import { tokenCommand } from './token-command';
import { type CliIo, EXIT, UsageError, validated, writeOrFail } from './common';
import { pathPrefix, prepareTargets } from './targets';

const USAGE = `Usage:
  wpa analyze [PATH...]   analyze repository checkouts or single workflow/action files (default: .)
  wpa fix [PATH...]       fix the fixable findings (safe fixes only by default) and print the diff
  wpa rules               list the analyzer rules
  wpa token --sub NAME --role ROLE [--role ROLE] [--group GROUP...] [--ttl 12h]
                          mint an API token from JWT_SECRET, else DATA_DIR/jwt-secret (made by \`npm start\`)
  wpa audit verify        verify the audit trail: every event's hash and link, and the signed checkpoints
                          (database: DATABASE_URL, else the running \`npm start\` stack of DATA_DIR; key:
                          AUDIT_CHECKPOINT_KEY, else DATA_DIR/audit-checkpoint-key)

Options for analyze:
  --format text|json|sarif     output format (default text)
  --min-severity SEVERITY      report only findings at least this severe
  --category CATEGORY          run only these rule categories (repeatable or comma separated)
  --config FILE                configuration file (default .github/wpa.yml or wpa.yml in each repository)
  --baseline FILE              do not report findings whose fingerprint is in FILE
  --write-baseline FILE        write every current finding's fingerprint to FILE (and report against it)
  --fail-on SEVERITY|none      exit 1 when a finding is at least this severe (default high)
  --output FILE                write the report to FILE instead of standard output

Options for fix:
  --write                      write the fixed files instead of printing the diff
  --rule RULE                  fix only findings of these rules (repeatable)
  --unsafe-fixes               also apply fixes that may change what a workflow does
  --job-timeout MINUTES        timeout-minutes for missing-job-timeout (default 30; an unsafe fix)
  --format text|json           text: the unified diff (paths from the repository root, for \`git apply\`);
                               json: the applied fixes, the unfixable findings with reasons, and the diff
  --config FILE, --fail-on SEVERITY|none   as for analyze, judged on the findings left after fixing
  Pinning actions (unpinned-action) runs \`git ls-remote\` on each action repository under ACTIONS_GIT_BASE_URL
  (default https://github.com); with --rule, only when unpinned-action is among the rules.

Options for rules:
  --format text|json           output format (default text)
  --category CATEGORY          only these categories

Options for audit verify:
  --format text|json           output format (default text)

Severities: ${SEVERITIES.join(', ')}. Categories: ${CATEGORIES.join(', ')}.
Exit codes: 0 nothing at or above --fail-on (audit verify: intact), 1 findings (audit verify: tampering found),
2 usage or configuration error, 3 internal error.
`;

const categoryList = z
  .array(z.string())
  .transform((values) => values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value.length > 0))
  .pipe(z.array(z.enum(CATEGORIES)));

const analyzeArgsSchema = z.object({
  format: z.enum(['text', 'json', 'sarif']).default('text'),
  'min-severity': z.enum(SEVERITIES).optional(),
  category: categoryList.optional(),
  baseline: z.string().min(1).optional(),
  'write-baseline': z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  'fail-on': z.enum([...SEVERITIES, 'none']).default('high'),
  output: z.string().min(1).optional(),
});

const rulesArgsSchema = z.object({
  format: z.enum(['text', 'json']).default('text'),
  category: categoryList.optional(),
});

const OPTIONS = {
  format: { type: 'string' },
  'min-severity': { type: 'string' },
  category: { type: 'string', multiple: true },
  baseline: { type: 'string' },
  'write-baseline': { type: 'string' },
  config: { type: 'string' },
  'fail-on': { type: 'string' },
  output: { type: 'string' },
  write: { type: 'boolean' },
  rule: { type: 'string', multiple: true },
  'unsafe-fixes': { type: 'boolean' },
  'job-timeout': { type: 'string' },
  sub: { type: 'string' },
  role: { type: 'string', multiple: true },
  group: { type: 'string', multiple: true },
  ttl: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** The version in the package.json next to the sources or the compiled files. */
function toolVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'workflow-patch-agent' && typeof manifest.version === 'string') return manifest.version;
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}

function selectedRules(categories: readonly Category[] | undefined): readonly Rule[] {
  return categories ? allRules.filter((rule) => categories.includes(rule.category)) : allRules;
}

function analyzeCommand(positionals: string[], values: unknown, io: CliIo): number {
  const args = validated(analyzeArgsSchema, values);
  const knownRuleIds = new Set(allRules.map((rule) => rule.id));
  const baseline = new Set(args.baseline ? readBaseline(resolve(io.cwd, args.baseline)) : []);
  const prepared = prepareTargets(positionals, io.cwd, knownRuleIds, args.config ? resolve(io.cwd, args.config) : undefined);

  const baselineTarget = args['write-baseline'];
  if (baselineTarget) {
    const everything = prepared.map(({ config, view, only }) => analyzeRepository(view, { rules: allRules, config, only }));
    const findings = everything.flatMap((result) => result.findings);
    writeOrFail('--write-baseline', () => writeBaseline(resolve(io.cwd, baselineTarget), findings));
    for (const finding of findings) baseline.add(finding.fingerprint);
    io.stderr.write(`wpa: wrote ${findings.length} fingerprints to ${baselineTarget}\n`);
  }

  const repositories: RepositoryReport[] = [];
  for (const { target, config, view, only } of prepared) {
    const result = analyzeRepository(view, {
      rules: allRules,
      config,
      baseline,
      ...(only ? { only } : {}),
      ...(args['min-severity'] ? { minSeverity: args['min-severity'] } : {}),
      ...(args.category ? { categories: args.category } : {}),
    });
    repositories.push({
      root: target.given,
      pathPrefix: pathPrefix(target, io.cwd),
      result,
      sources: new Map(view.workflowFiles.map((file) => [file.path, file.text])),
    });
  }

  const report: AnalysisReport = {
    tool: { name: 'wpa', version: toolVersion() },
    rules: selectedRules(args.category).filter((rule) => prepared.some(({ config }) => config.rules[rule.id]?.enabled !== false)),
    repositories,
  };
  const color = args.output === undefined && io.stdout.isTTY === true && !io.env.NO_COLOR;
  const output =
    args.format === 'json' ? formatJson(report) : args.format === 'sarif' ? formatSarif(report) : formatText(report, { color });
  const outputFile = args.output;
  if (outputFile) writeOrFail('--output', () => writeFileSync(resolve(io.cwd, outputFile), output));
  else io.stdout.write(output);

  for (const repository of repositories) {
    for (const diagnostic of repository.result.diagnostics) {
      io.stderr.write(`wpa: warning: rule ${diagnostic.ruleId} failed on ${repository.pathPrefix}${diagnostic.file}: ${diagnostic.message}\n`);
    }
  }
  const failOn = args['fail-on'];
  const failing =
    failOn !== 'none' && repositories.some(({ result }) => result.findings.some((finding) => atLeast(finding.severity, failOn)));
  return failing ? EXIT.findings : EXIT.ok;
}

function rulesCommand(positionals: string[], values: unknown, io: CliIo): number {
  if (positionals.length > 0) throw new UsageError(`rules: unexpected argument ${positionals[0]}`);
  const args = validated(rulesArgsSchema, values);
  const rules = [...selectedRules(args.category)].sort(
    (a, b) => CATEGORIES.indexOf(a.category) - CATEGORIES.indexOf(b.category) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  if (args.format === 'json') {
    const list = rules.map(({ id, category, severity, confidence, appliesTo, description }) => ({
      id,
      category,
      severity,
      confidence,
      appliesTo,
      description,
    }));
    io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return EXIT.ok;
  }
  const idWidth = Math.max(4, ...rules.map((rule) => rule.id.length));
  const lines = rules.map(
    (rule) => `${rule.id.padEnd(idWidth)}  ${CATEGORY_TITLES[rule.category].padEnd(13)}  ${rule.severity.padEnd(8)}  ${rule.description}`,
  );
  io.stdout.write(`${['rule'.padEnd(idWidth), 'category'.padEnd(13), 'severity'.padEnd(8), 'description'].join('  ')}\n${lines.join('\n')}\n`);
  return EXIT.ok;
}

const ANALYZE_ONLY = ['min-severity', 'baseline', 'write-baseline', 'config', 'fail-on', 'output'] as const;
const TOKEN_ONLY = ['sub', 'role', 'group', 'ttl'] as const;
/** Analyze flags that mean nothing to fix. */
const NOT_FOR_FIX = ['min-severity', 'baseline', 'write-baseline', 'output', 'category'] as const;

/** analyze and rules answer synchronously; audit verify reads the database. */
export function main(argv: readonly string[], io: CliIo = processIo()): number | Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    if (values.version) {
      io.stdout.write(`${toolVersion()}\n`);
      return EXIT.ok;
    }
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') {
      io.stdout.write(USAGE);
      return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    const { help: _help, version: _version, ...commandValues } = values;
    const tokenFlag = command === 'token' ? undefined : TOKEN_ONLY.find((flag) => commandValues[flag] !== undefined);
    if (tokenFlag) throw new UsageError(`--${tokenFlag} applies to token, not ${command}`);
    const fixFlag = command === 'fix' ? undefined : FIX_ONLY_FLAGS.find((flag) => commandValues[flag] !== undefined);
    if (fixFlag) throw new UsageError(`--${fixFlag} applies to fix, not ${command}`);
    if (command === 'analyze') return analyzeCommand(rest, commandValues, io);
    if (command === 'fix') return fixCommand(rest, commandValues, io, NOT_FOR_FIX).catch((error: unknown) => failure(error, io));
    if (command === 'audit') return auditCommand(rest, commandValues, io, [...ANALYZE_ONLY, ...TOKEN_ONLY, 'category']).catch((error: unknown) => failure(error, io));
    if (command === 'token') return tokenCommand(rest, commandValues, io, [...ANALYZE_ONLY, 'category', 'format']).catch((error: unknown) => failure(error, io));
    if (command === 'rules') {
      const misplaced = ANALYZE_ONLY.find((flag) => commandValues[flag] !== undefined);
      if (misplaced) throw new UsageError(`--${misplaced} applies to analyze, not rules`);
      return rulesCommand(rest, commandValues, io);
    }
    throw new UsageError(`unknown command ${command} (expected analyze, fix, rules, token or audit)`);
  } catch (error) {
    return failure(error, io);
  }
}

/** Reports an error of any command and returns its exit code. */
function failure(error: unknown, io: CliIo): number {
  const usage = error instanceof UsageError || error instanceof ConfigError || error instanceof SettingError || error instanceof BaselineError;
  if (usage || isParseArgsError(error)) {
    // One line: a message quoting file content (e.g. a JSON parse error) may contain line breaks.
    io.stderr.write(`wpa: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}\nRun \`wpa --help\` for usage.\n`);
    return EXIT.usage;
  }
  io.stderr.write(`wpa: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.internal;
}

/** node:util parseArgs reports bad flags as TypeErrors with ERR_PARSE_ARGS_* codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

function processIo(): CliIo {
  // A reader that stops early (`wpa analyze | head`) closes the pipe; that is not an error of the analysis.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}
