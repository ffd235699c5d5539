/**
 * Reports, for viewers: a patch's report and the fleet report as JSON or Markdown (negotiation.ts), and score
 * histories. The routes validate and pick the form; src/reports builds and renders the models.
 */
import { type Response, Router } from 'express';
import type { Pool } from 'pg';
import type { Config } from '../../config';
import { buildFleetReport } from '../../reports/fleet-report';
import { fleetReportMarkdown } from '../../reports/fleet-report-markdown';
import { buildPatchReport } from '../../reports/patch-report';
import { patchReportMarkdown } from '../../reports/patch-report-markdown';
import { dailyScores } from '../../store/scores';
import { getTarget } from '../../store/targets';
import { requireRole } from '../auth';
import { MARKDOWN_CONTENT_TYPE, type ReportFormat, reportFormat } from '../negotiation';
import { HttpProblem } from '../problem';
import { scoreHistoryQuery, uuidParam } from '../schemas';
import { parseParams, parseQuery } from '../validation';

const DAY_MS = 24 * 60 * 60 * 1000;

function send<T>(res: Response, format: ReportFormat, report: T, markdown: (report: T) => string): void {
  // Caches keep the JSON and the Markdown form of one URL apart.
  res.vary('Accept');
  if (format === 'markdown') res.type(MARKDOWN_CONTENT_TYPE).send(markdown(report));
  else res.json(report);
}

export function reportRoutes(deps: { pool: Pool; config: Config }): Router {
  const router = Router();
  const ui = { url: deps.config.temporal.uiUrl, namespace: deps.config.temporal.namespace };

  router.get('/patches/:id/report', requireRole('viewer'), async (req, res) => {
    const { id } = parseParams(uuidParam, req.params);
    const format = reportFormat(req);
    const report = await buildPatchReport(deps.pool, id, ui);
    if (!report) throw new HttpProblem(404, `No patch ${id}.`);
    send(res, format, report, patchReportMarkdown);
  });

  router.get('/reports/fleet', requireRole('viewer'), async (req, res) => {
    const format = reportFormat(req);
    send(res, format, await buildFleetReport(deps.pool), fleetReportMarkdown);
  });

  router.get('/reports/scores', requireRole('viewer'), async (req, res) => {
    const { days } = parseQuery(scoreHistoryQuery, req.query);
    const since = new Date(Date.now() - days * DAY_MS);
    res.json({ days, since: since.toISOString(), targets: await dailyScores(deps.pool, { since }) });
  });

  router.get('/targets/:id/scores', requireRole('viewer'), async (req, res) => {
    const { id } = parseParams(uuidParam, req.params);
    const { days } = parseQuery(scoreHistoryQuery, req.query);
    const target = await getTarget(deps.pool, id);
    if (!target) throw new HttpProblem(404, `No target ${id}.`);
    const since = new Date(Date.now() - days * DAY_MS);
    const [history] = await dailyScores(deps.pool, { since, targetId: id });
    res.json({ targetId: id, target: target.name, days, since: since.toISOString(), points: history?.points ?? [] });
  });

  return router;
}
