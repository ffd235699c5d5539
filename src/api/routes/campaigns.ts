/** Campaigns (per-rule agent patches across a policy's targets): where each selected target stands, for viewers. */
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { campaignOf } from '../../agent/campaigns';
import { getCampaignFacts, listCampaignFacts } from '../../store/campaigns';
import { requireRole } from '../auth';
import { HttpProblem } from '../problem';
import { parseParams, parseQuery } from '../validation';
import { uuidParam } from '../schemas';

const listCampaignsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export function campaignRoutes(deps: { pool: Pool }): Router {
  const router = Router();

  router.get('/campaigns', requireRole('viewer'), async (req, res) => {
    const query = parseQuery(listCampaignsQuery, req.query);
    res.json({ items: (await listCampaignFacts(deps.pool, query.limit)).map(campaignOf) });
  });

  router.get('/campaigns/:id', requireRole('viewer'), async (req, res) => {
    const { id } = parseParams(uuidParam, req.params);
    const facts = await getCampaignFacts(deps.pool, id);
    if (!facts) throw new HttpProblem(404, `No campaign ${id}: a campaign is a per-rule patch the agent proposed, named by the patch's id.`);
    res.json(campaignOf(facts));
  });

  return router;
}
