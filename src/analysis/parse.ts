import { LineCounter, parseDocument } from 'yaml';
import type { WorkflowFileKind } from '../domain/types';
import type { WorkflowFile } from './rule';

/**
 * Which kind of CI file a repository-relative path is, or undefined when the analyzer does not read it. Workflows
 * must sit directly in `.github/workflows/`: GitHub never loads files from its sub-folders, which often hold
 * YAML for other tools (labeler configurations, for example). Actions may sit at any depth under `.github/actions/`.
 */
export function workflowFileKind(path: string): WorkflowFileKind | undefined {
  if (/^\.github\/workflows\/[^/]+\.ya?ml$/.test(path)) return 'workflow';
  if (/^\.github\/actions\/(.+\/)?action\.ya?ml$/.test(path)) return 'action';
  return undefined;
}

/** Parses one file with positions. Never throws: syntax errors stay in `doc.errors` for the yaml-syntax rule. */
export function parseWorkflowFile(path: string, text: string, kind: WorkflowFileKind): WorkflowFile {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `on`, `yes`, `no` stay strings, as GitHub reads them. uniqueKeys makes duplicates errors.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: false });
  return { path, kind, text, doc, lineCounter };
}
