/**
 * Analyzer benchmark over the shared corpus (../shared/corpus/gha), all in one process: the whole corpus analyzed
 * repository by repository (parse + every rule), compared with parsing the same files with `yaml` alone, measured in
 * the same run (warm-up, then the median of N repetitions). Also per-file latency and the most expensive rules.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { discoverRepository, repositoryFromFiles } from '../src/analysis/discover';
import { analyzeRepository } from '../src/analysis/engine';
import { parseWorkflowFile } from '../src/analysis/parse';
import { allRules } from '../src/analysis/rules';
import { percentile } from './report';

export interface AnalysisBenchOptions {
  corpusDir: string;
  warmup: number;
  repetitions: number;
}

export interface AnalysisBenchResult {
  repositories: number;
  files: number;
  bytes: number;
  findings: number;
  /** Median wall time of analyzing the whole corpus from memory (parse + rules), ms. */
  analysisMs: number;
  /** Median wall time of parsing the same files with `yaml` alone, ms. */
  parseMs: number;
  /** Median CPU time (user + system) of the same two measurements: less sensitive to other load on the machine. */
  analysisCpuMs: number;
  parseCpuMs: number;
  /** One pass including reading and discovering the files on disk, ms. */
  fromDiskMs: number;
  filesPerSecond: number;
  p50FileMs: number;
  p95FileMs: number;
  maxFile: { path: string; ms: number };
  slowestRules: Array<{ id: string; ms: number }>;
  repetitions: number;
}

interface CorpusRepository {
  folder: string;
  files: Map<string, string>;
}

/** Every CI file of every corpus folder, read once so the timed loops measure no I/O. */
function loadCorpus(corpusDir: string): CorpusRepository[] {
  return readdirSync(corpusDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((folder) => {
      const view = discoverRepository(join(corpusDir, folder));
      return { folder, files: new Map(view.workflowFiles.map((file) => [file.path, file.text])) };
    });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function timed(action: () => void): number {
  return timedWithCpu(action).wallMs;
}

function timedWithCpu(action: () => void): { wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const started = performance.now();
  action();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

/** Same parser options as parseWorkflowFile, so the comparison isolates the cost of the rules. */
function parseOnly(corpus: CorpusRepository[]): void {
  for (const repository of corpus) {
    for (const text of repository.files.values()) {
      parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: true, strict: false });
    }
  }
}

function analyzeAll(corpus: CorpusRepository[]): number {
  let findings = 0;
  for (const repository of corpus) {
    findings += analyzeRepository(repositoryFromFiles(repository.files), { rules: allRules }).findings.length;
  }
  return findings;
}

export function runAnalysisBench(options: AnalysisBenchOptions): AnalysisBenchResult {
  let fromDisk: CorpusRepository[] = [];
  const fromDiskMs = timed(() => {
    fromDisk = loadCorpus(options.corpusDir);
    analyzeAll(fromDisk);
  });
  const corpus = fromDisk;
  const files = corpus.reduce((sum, repository) => sum + repository.files.size, 0);
  const bytes = corpus.reduce((sum, repository) => sum + [...repository.files.values()].reduce((total, text) => total + text.length, 0), 0);

  let findings = 0;
  for (let round = 0; round < options.warmup; round += 1) {
    parseOnly(corpus);
    findings = analyzeAll(corpus);
  }
  const parseTimes: Array<{ wallMs: number; cpuMs: number }> = [];
  const analysisTimes: Array<{ wallMs: number; cpuMs: number }> = [];
  // Interleaved so that machine noise affects both measurements alike.
  for (let round = 0; round < options.repetitions; round += 1) {
    parseTimes.push(timedWithCpu(() => parseOnly(corpus)));
    analysisTimes.push(timedWithCpu(() => (findings = analyzeAll(corpus))));
  }

  // Per-file latency: parsing the file plus running every rule on it within its repository.
  const perFile: Array<{ path: string; ms: number }> = [];
  const ruleTotals = new Map<string, number>();
  for (const repository of corpus) {
    const view = repositoryFromFiles(repository.files);
    for (const file of view.workflowFiles) {
      const parseMs = timed(() => parseWorkflowFile(file.path, file.text, file.kind));
      let timings: Record<string, number> = {};
      const ruleMs = timed(() => {
        timings = analyzeRepository(view, { rules: allRules, only: [file.path], profile: true }).ruleTimings ?? {};
      });
      perFile.push({ path: `${repository.folder}/${file.path}`, ms: parseMs + ruleMs });
      for (const [id, ms] of Object.entries(timings)) ruleTotals.set(id, (ruleTotals.get(id) ?? 0) + ms);
    }
  }
  const fileTimes = perFile.map((entry) => entry.ms);
  const maxFile = perFile.reduce((worst, entry) => (entry.ms > worst.ms ? entry : worst), { path: '', ms: 0 });
  const analysisMs = median(analysisTimes.map((time) => time.wallMs));
  return {
    repositories: corpus.length,
    files,
    bytes,
    findings,
    analysisMs,
    parseMs: median(parseTimes.map((time) => time.wallMs)),
    analysisCpuMs: median(analysisTimes.map((time) => time.cpuMs)),
    parseCpuMs: median(parseTimes.map((time) => time.cpuMs)),
    fromDiskMs,
    filesPerSecond: (files / analysisMs) * 1000,
    p50FileMs: percentile(fileTimes, 0.5),
    p95FileMs: percentile(fileTimes, 0.95),
    maxFile,
    slowestRules: [...ruleTotals]
      .map(([id, ms]) => ({ id, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 8),
    repetitions: options.repetitions,
  };
}

/** Markdown for docs/PERFORMANCE.md, section "Analysis". */
export function analysisBenchMarkdown(result: AnalysisBenchResult, environment: string): string {
  const ratio = result.analysisMs / result.parseMs;
  const rows: Array<[string, string]> = [
    ['corpus', `${result.repositories} repositories, ${result.files} files, ${(result.bytes / 1024 / 1024).toFixed(1)} MiB, ${result.findings} findings`],
    [`whole corpus, parse + ${allRules.length} rules (median of ${result.repetitions})`, `${result.analysisMs.toFixed(0)} ms`],
    ['whole corpus, `yaml` parse alone (same run)', `${result.parseMs.toFixed(0)} ms`],
    ['analysis / parse', `${ratio.toFixed(2)}x`],
    ['CPU time: analysis / parse', `${result.analysisCpuMs.toFixed(0)} ms / ${result.parseCpuMs.toFixed(0)} ms = ${(result.analysisCpuMs / result.parseCpuMs).toFixed(2)}x`],
    ['throughput', `${result.filesPerSecond.toFixed(0)} files/s`],
    ['per file p50 / p95', `${result.p50FileMs.toFixed(2)} ms / ${result.p95FileMs.toFixed(2)} ms`],
    ['slowest file', `${result.maxFile.path} (${result.maxFile.ms.toFixed(1)} ms)`],
    ['first pass incl. disk reads, cold JIT', `${result.fromDiskMs.toFixed(0)} ms`],
  ];
  return [
    '## Analysis',
    '',
    `Measured by \`npm run bench\` (bench/analysis.ts) on ${environment}. Goals: whole corpus < 3 s, analysis <= 4x parse.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
    '',
    'Most expensive rules (summed over all files, one pass):',
    '',
    '| rule | ms |',
    '| --- | --- |',
    ...result.slowestRules.map((rule) => `| \`${rule.id}\` | ${rule.ms.toFixed(1)} |`),
    '',
  ].join('\n');
}
