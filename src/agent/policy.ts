/**
 * An agent policy: which targets, how often, which rules it may fix (and whether unsafe fixes), how the fixes are
 * grouped into patches, the rollout and health defaults of those patches, how many may be open at once, the
 * weekly windows in which nothing is deployed and the approvals they need at least. One zod schema serves the
 * API (POST/PUT /api/v1/policies) and the YAML file loaded at start (AGENT_POLICY_FILE).
 */
import { z } from 'zod';
import { allRules } from '../analysis/rules';
import { type ApprovalMinimums, SEVERITIES } from '../domain/types';
import { quietWindowsSchema, rolloutSchema } from '../patching/rollout-schema';
import { scheduleSpecSchema } from './schedule-spec';
import { targetSelectorSchema } from './target-selection';
import '../util/validation-messages';

/** Rules with an automatic fix: the only ones an agent can propose patches for. */
const FIXABLE_RULE_IDS: ReadonlySet<string> = new Set(allRules.filter((rule) => rule.fixes !== undefined).map((rule) => rule.id));
const KNOWN_RULE_IDS: ReadonlySet<string> = new Set(allRules.map((rule) => rule.id));

export const GROUPINGS = ['per-rule', 'per-target'] as const;
export type Grouping = (typeof GROUPINGS)[number];

const approvalMinimumsSchema = z
  .object({
    minimumSafe: z.number().int().min(1).max(10).optional(),
    minimumRisky: z.number().int().min(1).max(10).optional(),
    distinctGroups: z.boolean().optional(),
  })
  .strict()
  .prefault({}) satisfies z.ZodType<ApprovalMinimums>;

export const policySpecSchema = z
  .object({
    name: z
      .string()
      .trim()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit'),
    targets: targetSelectorSchema,
    schedule: scheduleSpecSchema,
    rules: z
      .array(
        z
          .string()
          .max(100)
          .refine((id) => KNOWN_RULE_IDS.has(id), { message: 'is not a rule of the analyzer (see docs/rules.md)', abort: true })
          .refine((id) => FIXABLE_RULE_IDS.has(id), { message: 'is a rule without an automatic fix, so the agent cannot propose patches for it' }),
      )
      .min(1)
      .max(FIXABLE_RULE_IDS.size)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'must not name a rule twice' }),
    unsafe: z.boolean().default(false),
    minSeverity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).default('low'),
    grouping: z.enum(GROUPINGS, { error: `must be ${GROUPINGS.join(' or ')}` }).default('per-rule'),
    rollout: rolloutSchema,
    maxOpenPatches: z.number().int().min(1).max(100).default(5),
    quietWindows: quietWindowsSchema,
    approval: approvalMinimumsSchema,
  })
  .strict();

/** A policy as written (defaults not yet applied). */
export type PolicySpecInput = z.input<typeof policySpecSchema>;
/** A validated policy with its defaults. */
export type PolicySpec = z.infer<typeof policySpecSchema>;

/** A stored policy. */
export interface Policy {
  id: string;
  name: string;
  spec: PolicySpec;
  createdBy: string;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

/** The author of the agent's patches under a policy: Guardians approve them as anyone's (never the author itself). */
export function agentAuthor(policyName: string): string {
  return `agent:${policyName}`;
}

/** The Temporal Schedule of a policy. */
export function policyScheduleId(policyId: string): string {
  return `agent-${policyId}`;
}
