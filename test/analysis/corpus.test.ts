/**
 * Runs every rule over the shared corpus of real workflow files (../shared/corpus/gha, one folder per
 * repository): no rule may crash, output must be deterministic and every finding must point inside its file.
 * Skipped with a notice when the shared folder is not next to the checkout (e.g. a plain clone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { discoverRepository } from '../../src/analysis/discover';
import { analyzeRepository, type AnalysisResult } from '../../src/analysis/engine';
import { formatJson } from '../../src/analysis/formats/json';
import { workflowFileKind } from '../../src/analysis/parse';
import type { RepositoryView } from '../../src/analysis/rule';
import { allRules } from '../../src/analysis/rules';

const REPO_ROOT = resolve(__dirname, '../..');
const CORPUS = join(resolve(REPO_ROOT, '..', 'shared'), 'corpus', 'gha');
const MANIFEST = join(CORPUS, 'MANIFEST.tsv');

/**
 * Manifest paths per corpus folder (`owner__repo`), leaving out the files GitHub does not load (the manifest also
 * lists YAML from sub-folders of .github/workflows, such as apache/arrow's labeler configuration).
 */
function manifest(): Map<string, string[]> {
  const byFolder = new Map<string, string[]>();
  for (const line of readFileSync(MANIFEST, 'utf8').split('\n').slice(1)) {
    const [repo, , path] = line.split('\t');
    if (!repo || !path || workflowFileKind(path) === undefined) continue;
    const folder = repo.replace('/', '__');
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), path]);
  }
  return byFolder;
}

function json(folder: string, result: AnalysisResult): string {
  return formatJson({ tool: { name: 'wpa', version: 'test' }, rules: allRules, repositories: [{ root: folder, pathPrefix: '', result, sources: new Map() }] });
}

/** Findings whose position is not inside the file: line beyond the last line or column beyond the line end + 1. */
function misplaced(view: RepositoryView, result: AnalysisResult): string[] {
  const lines = new Map(view.workflowFiles.map((file) => [file.path, file.text.split(/\r?\n/)]));
  return result.findings.flatMap((finding) => {
    const fileLines = lines.get(finding.file) ?? [];
    const fits = (line: number, column: number): boolean => line >= 1 && line <= fileLines.length && column >= 1 && column <= (fileLines[line - 1]?.length ?? 0) + 1;
    const ordered = finding.endLine > finding.line || (finding.endLine === finding.line && finding.endColumn >= finding.column);
    return fits(finding.line, finding.column) && fits(finding.endLine, finding.endColumn) && ordered
      ? []
      : [`${finding.file}:${finding.line}:${finding.column}-${finding.endLine}:${finding.endColumn} ${finding.ruleId}`];
  });
}

if (!existsSync(MANIFEST)) {
  console.warn(`corpus.test.ts: ${MANIFEST} not found; skipping the corpus test (it needs the shared folder next to the checkout).`);
  test.skip('corpus of real workflow files (shared folder absent)', () => {});
} else {
  const folders = [...manifest()].sort(([a], [b]) => (a < b ? -1 : 1));

  describe('analyzer on the real-world corpus', () => {
    test('the corpus is there', () => {
      expect(folders.length).toBeGreaterThan(0);
    });

    test.each(folders)('%s: all files analyze without rule errors, deterministically, with positions inside the files', (folder, paths) => {
      const root = join(CORPUS, folder);
      const view = discoverRepository(root);
      expect(view.workflowFiles.map((file) => file.path)).toEqual(expect.arrayContaining(paths));
      const first = analyzeRepository(view, { rules: allRules });
      expect(first.diagnostics).toEqual([]);
      expect(misplaced(view, first)).toEqual([]);
      const second = analyzeRepository(discoverRepository(root), { rules: allRules });
      expect(json(folder, second)).toBe(json(folder, first));
    });
  });
}
