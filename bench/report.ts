/**
 * What every benchmark prints and records: the machine, figures next to the baseline measured in the same run,
 * and its section of docs/PERFORMANCE.md (replaced as a whole on each run).
 */
import { cpus, totalmem } from 'node:os';

/** The machine a figure was measured on, as PERFORMANCE.md states it. */
export function machineDescription(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `Node ${process.version}, ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

/** One measured figure beside its same-run baseline and the goal it is held to. */
export interface ComparedFigure {
  measure: string;
  value: number;
  baseline: number;
  /** How the two are shown, e.g. `ms`, `MiB`, `/min`. */
  unit: string;
  baselineName: string;
  /** The highest acceptable value / baseline ratio, when the issue sets one. */
  maxRatio?: number;
}

function formatted(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`.trim();
}

/** A Markdown table of figures with their baselines and ratios; a goal missed is marked. */
export function comparedTable(figures: readonly ComparedFigure[]): string {
  const rows = figures.map((figure) => {
    const ratio = figure.baseline > 0 ? figure.value / figure.baseline : Number.NaN;
    const verdict = figure.maxRatio === undefined ? '' : ratio <= figure.maxRatio ? ` (goal ≤ ${figure.maxRatio}×: met)` : ` (goal ≤ ${figure.maxRatio}×: **missed**)`;
    return `| ${figure.measure} | ${formatted(figure.value, figure.unit)} | ${formatted(figure.baseline, figure.unit)} (${figure.baselineName}) | ${Number.isNaN(ratio) ? '-' : `${ratio.toFixed(2)}×`}${verdict} |`;
  });
  return ['| measure | value | baseline (same run) | ratio |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Percentile (nearest rank) of the values, e.g. 0.99. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

/** The document with the `## <heading>` section replaced by `section` (or appended). */
export function withSection(document: string, heading: string, section: string): string {
  const start = document.search(new RegExp(`^## ${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  if (start < 0) return `${document.trimEnd()}\n\n${section.trimEnd()}\n`;
  const rest = document.slice(start + 1);
  const next = rest.search(/^## /m);
  return `${document.slice(0, start)}${section.trimEnd()}\n${next < 0 ? '' : `\n${rest.slice(next)}`}`;
}
