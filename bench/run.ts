/**
 * Benchmark entry (`npm run bench`): runs from the package root, prints a table per benchmark and records the
 * results in docs/PERFORMANCE.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { analysisBenchMarkdown, runAnalysisBench, withAnalysisSection } from './analysis';

const repoRoot = process.cwd();
const corpusDir = join(resolve(repoRoot, '..', 'shared'), 'corpus', 'gha');
const performanceDoc = join(repoRoot, 'docs', 'PERFORMANCE.md');

function main(): void {
  if (!existsSync(corpusDir)) {
    process.stderr.write(`bench: corpus not found at ${corpusDir}; nothing to measure.\n`);
    process.exitCode = 1;
    return;
  }
  const result = runAnalysisBench({ corpusDir, warmup: 2, repetitions: 5 });
  const environment = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`;
  const section = analysisBenchMarkdown(result, environment);
  process.stdout.write(`${section}\n`);
  const current = existsSync(performanceDoc) ? readFileSync(performanceDoc, 'utf8') : '# Performance\n';
  writeFileSync(performanceDoc, withAnalysisSection(current, section));
  process.stdout.write(`updated ${performanceDoc}\n`);
}

main();
