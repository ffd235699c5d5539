/**
 * Content negotiation for reports: JSON or Markdown, chosen by `?format=` (which wins, being explicit) or by the
 * Accept header; an Accept header that allows neither gets a 406 problem naming what is offered.
 */
import type { Request } from 'express';
import { HttpProblem } from './problem';
import { reportQuery } from './schemas';
import { parseQuery } from './validation';

export type ReportFormat = 'json' | 'markdown';

export const MARKDOWN_CONTENT_TYPE = 'text/markdown; charset=utf-8';

/** JSON first: what a client without preference (`*\/*`, no Accept header) gets. */
const OFFERED = ['application/json', 'text/markdown'] as const;

export function reportFormat(req: Request): ReportFormat {
  const { format } = parseQuery(reportQuery, req.query);
  if (format !== undefined) return format === 'md' ? 'markdown' : 'json';
  const chosen = req.accepts([...OFFERED]);
  if (chosen === false) {
    throw new HttpProblem(406, `This report is offered as ${OFFERED.join(' or ')} (or choose with ?format=json or ?format=md); the Accept header allows neither.`, {
      acceptable: OFFERED,
    });
  }
  return chosen === 'text/markdown' ? 'markdown' : 'json';
}
