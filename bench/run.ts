/**
 * Benchmark entry (`npm run bench [-- --full] [-- --only=name,name]`): runs each benchmark from the package root,
 * prints its section and records it in docs/PERFORMANCE.md with the machine. By default every benchmark runs at a
 * size that takes a few minutes in all; `--full` runs the sizes of issue #13 (much longer).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analysisBenchMarkdown, runAnalysisBench } from './analysis';
import { runLifecycleBench } from './lifecycle';
import { memoryBenchMarkdown, runMemoryBench } from './memory';
import { runApiBench } from './api';
import { runRollbackBench } from './rollback';
import { runFleetScanBench } from './fleet-scan';
import { machineDescription, withSection } from './report';

const repoRoot = process.cwd();
const corpusDir = join(resolve(repoRoot, '..', 'shared'), 'corpus', 'gha');
const performanceDoc = join(repoRoot, 'docs', 'PERFORMANCE.md');

export interface BenchContext {
  full: boolean;
  machine: string;
  log: (line: string) => void;
}

interface Benchmark {
  name: string;
  /** The `## ` heading of its section in docs/PERFORMANCE.md. */
  heading: string;
  /** The section's Markdown, or why it cannot run here. */
  run: (context: BenchContext) => Promise<string | { skipped: string }>;
}

const benchmarks: Benchmark[] = [
  {
    name: 'analysis',
    heading: 'Analysis',
    run: (context) => {
      if (!existsSync(corpusDir)) return Promise.resolve({ skipped: `corpus not found at ${corpusDir}` });
      return Promise.resolve(analysisBenchMarkdown(runAnalysisBench({ corpusDir, warmup: 2, repetitions: 5 }), context.machine));
    },
  },
  { name: 'lifecycle', heading: 'Lifecycle overhead', run: runLifecycleBench },
  {
    name: 'memory',
    heading: 'Worker memory',
    run: async (context) => memoryBenchMarkdown(await runMemoryBench(context), context.machine),
  },
  { name: 'api', heading: 'API', run: runApiBench },
  { name: 'rollback', heading: 'Rollback', run: runRollbackBench },
  { name: 'fleet-scan', heading: 'Fleet scan', run: runFleetScanBench },
];

function parseArguments(argv: readonly string[]): { full: boolean; only: Set<string> | undefined } {
  let full = false;
  let only: Set<string> | undefined;
  for (const argument of argv) {
    if (argument === '--full') full = true;
    else if (argument.startsWith('--only=')) only = new Set(argument.slice('--only='.length).split(',').filter(Boolean));
    else throw new Error(`bench: unknown argument ${argument}; use --full and --only=${benchmarks.map((benchmark) => benchmark.name).join(',')}`);
  }
  const unknown = [...(only ?? [])].filter((name) => !benchmarks.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0) throw new Error(`bench: no benchmark ${unknown.join(', ')}; there are ${benchmarks.map((benchmark) => benchmark.name).join(', ')}`);
  return { full, only };
}

async function main(): Promise<void> {
  const { full, only } = parseArguments(process.argv.slice(2));
  const context: BenchContext = { full, machine: machineDescription(), log: (line) => process.stderr.write(`${line}\n`) };
  let failed = false;
  for (const benchmark of benchmarks.filter((candidate) => only?.has(candidate.name) ?? true)) {
    const started = Date.now();
    context.log(`bench: ${benchmark.name}${full ? ' (full sizes)' : ''}...`);
    try {
      const result = await benchmark.run(context);
      if (typeof result !== 'string') {
        context.log(`bench: ${benchmark.name} skipped: ${result.skipped}`);
        continue;
      }
      process.stdout.write(`${result}\n`);
      const current = existsSync(performanceDoc) ? readFileSync(performanceDoc, 'utf8') : '# Performance\n';
      writeFileSync(performanceDoc, withSection(current, benchmark.heading, result));
      context.log(`bench: ${benchmark.name} done in ${((Date.now() - started) / 1000).toFixed(0)} s; updated ${performanceDoc}`);
    } catch (error) {
      failed = true;
      context.log(`bench: ${benchmark.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  if (failed) process.exitCode = 1;
}

void main();
