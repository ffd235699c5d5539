/**
 * Agent policies in the read model. The row is the record; each policy's Temporal Schedule is derived from it
 * (src/agent/policy-schedules.ts) in the same transaction that writes the row.
 */
import type { Pool } from 'pg';
import type { Policy, PolicySpec } from '../agent/policy';
import type { Queryable } from './db';

interface PolicyRow {
  id: string;
  name: string;
  spec: PolicySpec;
  created_by: string;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

export class DuplicatePolicyError extends Error {
  constructor(readonly policyName: string) {
    super(`a policy named ${policyName} already exists`);
    this.name = 'DuplicatePolicyError';
  }
}

function fromRow(row: PolicyRow): Policy {
  return {
    id: row.id,
    name: row.name,
    spec: row.spec,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function uniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

export async function insertPolicy(db: Queryable, input: { id: string; spec: PolicySpec; by: string }): Promise<Policy> {
  try {
    const { rows } = await db.query<PolicyRow>(
      'INSERT INTO agent_policies (id, name, spec, created_by, updated_by) VALUES ($1, $2, $3, $4, $4) RETURNING *',
      [input.id, input.spec.name, JSON.stringify(input.spec), input.by],
    );
    return fromRow(rows[0] as PolicyRow);
  } catch (error) {
    if (uniqueViolation(error)) throw new DuplicatePolicyError(input.spec.name);
    throw error;
  }
}

/** Replaces a policy's spec; undefined when there is no such policy. */
export async function updatePolicy(db: Queryable, input: { id: string; spec: PolicySpec; by: string }): Promise<Policy | undefined> {
  try {
    const { rows } = await db.query<PolicyRow>(
      'UPDATE agent_policies SET name = $2, spec = $3, updated_by = $4, updated_at = now() WHERE id = $1 RETURNING *',
      [input.id, input.spec.name, JSON.stringify(input.spec), input.by],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  } catch (error) {
    if (uniqueViolation(error)) throw new DuplicatePolicyError(input.spec.name);
    throw error;
  }
}

/** Deletes a policy (its cycles go with it; its patches and campaigns stay); the deleted policy or undefined. */
export async function deletePolicy(db: Queryable, id: string): Promise<Policy | undefined> {
  const { rows } = await db.query<PolicyRow>('DELETE FROM agent_policies WHERE id = $1 RETURNING *', [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function getPolicy(db: Queryable, id: string): Promise<Policy | undefined> {
  const { rows } = await db.query<PolicyRow>('SELECT * FROM agent_policies WHERE id = $1', [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** The policy of that name, locked until the transaction ends (the policy file's create-or-update). */
export async function getPolicyByNameForUpdate(db: Queryable, name: string): Promise<Policy | undefined> {
  const { rows } = await db.query<PolicyRow>('SELECT * FROM agent_policies WHERE name = $1 FOR UPDATE', [name]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listPolicies(pool: Pool): Promise<Policy[]> {
  const { rows } = await pool.query<PolicyRow>('SELECT * FROM agent_policies ORDER BY name');
  return rows.map(fromRow);
}
