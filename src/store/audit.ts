/**
 * The append-only, tamper-evident audit trail. Each event's hash is SHA-256 over the previous event's hash and
 * the event's RFC 8785 canonical JSON, so editing or deleting any row breaks the chain; signed checkpoints, kept
 * here and elsewhere, anchor it (src/audit writes and verifies them). The database chains appends, serialized by
 * a transaction-scoped advisory lock (concurrent appends would otherwise fork the chain), and an idempotency key
 * makes a retried append (activities retry) return the first event instead of adding another.
 */
import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Pool, PoolClient } from 'pg';

export interface AuditEventInput {
  actor: string;
  roles?: readonly string[];
  /** What happened, dotted: `http.request`, `patch.approved`, `deployment.reverted`, ... */
  action: string;
  subjectType?: string;
  subjectId?: string;
  requestId?: string;
  ip?: string;
  userAgent?: string;
  method?: string;
  path?: string;
  status?: number;
  details?: Record<string, unknown>;
  /** Same key, same event: a retried append returns the stored one. */
  idempotencyKey?: string;
  /** Defaults to now; activities pass the workflow's logical time so retries write identical events. */
  at?: Date;
}

export interface AuditEvent {
  seq: number;
  id: string;
  at: string;
  actor: string;
  roles: string[];
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

interface AuditRow {
  seq: string;
  id: string;
  at: Date;
  actor: string;
  roles: string[];
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

function fromRow(row: AuditRow): AuditEvent {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    roles: row.roles,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    requestId: row.request_id,
    ip: row.ip,
    userAgent: row.user_agent,
    method: row.method,
    path: row.path,
    status: row.status,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** SHA-256 over the previous event's hash and the event's canonical JSON (everything but the hash itself). */
export function auditEventHash(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(event.prevHash).update(canonicalize(event) ?? '').digest('hex');
}

/** What hashes an event besides the previous hash and its seq: its canonical JSON, cut where those two go. */
interface HashTemplate {
  hashHead: string;
  hashMiddle: string;
  hashTail: string;
}

/**
 * The canonical JSON of an event with stand-ins for its previous hash and seq, cut at the stand-ins: the database
 * puts the real ones in (migrations/0015_audit_append.sql). The stand-ins are random: no field can contain them.
 */
function hashTemplate(fields: Omit<AuditEvent, 'hash' | 'prevHash' | 'seq'>): HashTemplate {
  const nonce = randomUUID();
  const prevHashStandIn = JSON.stringify(`prevHash-${nonce}`);
  const seqStandIn = JSON.stringify(`seq-${nonce}`);
  const canonical = canonicalize({ ...fields, prevHash: `prevHash-${nonce}`, seq: `seq-${nonce}` }) ?? '';
  const [hashHead, rest, ...extraPrev] = canonical.split(prevHashStandIn);
  const [hashMiddle, hashTail, ...extraSeq] = (rest ?? '').split(seqStandIn);
  // prevHash sorts before seq (RFC 8785 orders keys by UTF-16 code units), so the cut is head, prevHash, middle, seq, tail.
  if (hashHead === undefined || hashMiddle === undefined || hashTail === undefined || extraPrev.length > 0 || extraSeq.length > 0) {
    throw new Error('audit: the canonical JSON of an event could not be cut at its previous hash and seq');
  }
  return { hashHead, hashMiddle, hashTail };
}

/**
 * A value as PostgreSQL stores it: plain JSON whose strings and keys are UTF-8, a lone surrogate replaced by U+FFFD
 * as the driver encodes text parameters (jsonb would refuse one), so what is hashed is what is read back.
 */
function asStored<T>(value: T): T {
  const stored = (inner: unknown): unknown => {
    if (typeof inner === 'string') return Buffer.from(inner, 'utf8').toString('utf8');
    if (Array.isArray(inner)) return inner.map(stored);
    if (inner !== null && typeof inner === 'object') return Object.fromEntries(Object.entries(inner).map(([key, item]) => [stored(key), stored(item)]));
    return inner;
  };
  return stored(JSON.parse(JSON.stringify(value))) as T;
}

/**
 * appendAuditEvent for many events: chained onto the head in order by one statement (append_audit_events: the
 * lock, the head, the stored keys and the inserts, no round trip in between), which holds the chain lock until its
 * transaction ends: its own, or the caller's. An input whose idempotency key is stored already (or repeats an
 * earlier input's) gets that event back instead of a new one.
 */
export async function appendAuditEvents(db: Pool | PoolClient, inputs: readonly AuditEventInput[]): Promise<AuditEvent[]> {
  if (inputs.length === 0) return [];
  const events = inputs.map((input) => {
    const fields = asStored({
      id: randomUUID(),
      // Millisecond precision: what PostgreSQL stores must hash the same when read back.
      at: new Date(Math.floor((input.at ?? new Date()).getTime())).toISOString(),
      actor: input.actor,
      roles: [...(input.roles ?? [])],
      action: input.action,
      subjectType: input.subjectType ?? null,
      subjectId: input.subjectId ?? null,
      requestId: input.requestId ?? null,
      ip: input.ip ?? null,
      userAgent: input.userAgent ?? null,
      method: input.method ?? null,
      path: input.path ?? null,
      status: input.status ?? null,
      details: input.details ?? {},
    });
    return { ...fields, idempotencyKey: asStored(input.idempotencyKey ?? null), ...hashTemplate(fields) };
  });
  const { rows } = await db.query<AuditRow>('SELECT * FROM append_audit_events($1::jsonb)', [JSON.stringify(events)]);
  return rows.map(fromRow);
}

/**
 * Appends an event. With a Pool the append is one statement, its own transaction. With a PoolClient it joins the
 * caller's open transaction (BEGIN already sent), so the event commits or rolls back with the change it
 * describes; the chain lock is then held until that transaction ends, so append last and commit soon.
 */
export async function appendAuditEvent(db: Pool | PoolClient, input: AuditEventInput): Promise<AuditEvent> {
  const [event] = await appendAuditEvents(db, [input]);
  if (!event) throw new Error('audit: an append returned no event');
  return event;
}

export interface AuditListQuery {
  subjectType?: string;
  subjectId?: string;
  /** Events about this target: its own subject, or a `details.targetId` (deployments, health rounds of patches). */
  targetId?: string;
  actor?: string;
  action?: string;
  /** Actions starting with this text, e.g. `patch.`. */
  actionPrefix?: string;
  /** Events at or after this time. */
  from?: Date;
  /** Events before this time. */
  to?: Date;
  afterSeq?: number;
  limit?: number;
}

/** Events in chain order (seq ascending) matching every given filter. */
export async function listAuditEvents(pool: Pool, query: AuditListQuery = {}): Promise<AuditEvent[]> {
  const { rows } = await pool.query<AuditRow>(
    `SELECT * FROM audit_events
      WHERE seq > $1
        AND ($2::text IS NULL OR subject_type = $2)
        AND ($3::text IS NULL OR subject_id = $3)
        AND ($4::text IS NULL OR (subject_type = 'target' AND subject_id = $4) OR details->>'targetId' = $4)
        AND ($5::text IS NULL OR actor = $5)
        AND ($6::text IS NULL OR action = $6)
        AND ($7::text IS NULL OR starts_with(action, $7))
        AND ($8::timestamptz IS NULL OR at >= $8)
        AND ($9::timestamptz IS NULL OR at < $9)
      ORDER BY seq LIMIT $10`,
    [query.afterSeq ?? 0, query.subjectType ?? null, query.subjectId ?? null, query.targetId ?? null, query.actor ?? null,
      query.action ?? null, query.actionPrefix ?? null, query.from ?? null, query.to ?? null, query.limit ?? 100],
  );
  return rows.map(fromRow);
}

/** The chain's length (its newest seq) and newest hash ('' for an empty chain): what the next event links to and a checkpoint signs. */
export async function auditChainHead(db: Pool | PoolClient): Promise<{ events: number; headHash: string }> {
  const { rows } = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  return { events: rows[0] ? Number(rows[0].seq) : 0, headHash: rows[0]?.hash ?? '' };
}

/** A signed anchor of the chain: it had `events` events and the newest one's hash was `headHash`. */
export interface AuditCheckpoint {
  events: number;
  headHash: string;
  /** ISO 8601, millisecond precision (it is part of what the MAC signs). */
  at: string;
  /** HMAC-SHA256, hex, under a key the database never sees (src/audit/checkpoints.ts). */
  mac: string;
}

interface CheckpointRow {
  events: string;
  head_hash: string;
  at: Date;
  mac: string;
}

/** Stores a checkpoint unless one for the same number of events exists (several API processes write them); true when stored. */
export async function insertAuditCheckpoint(pool: Pool, checkpoint: AuditCheckpoint): Promise<boolean> {
  const { rowCount } = await pool.query(
    'INSERT INTO audit_checkpoints (events, head_hash, at, mac) VALUES ($1, $2, $3, $4) ON CONFLICT (events) DO NOTHING',
    [checkpoint.events, checkpoint.headHash, checkpoint.at, checkpoint.mac],
  );
  return rowCount === 1;
}

/** The number of events of the newest stored checkpoint, 0 when there is none. */
export async function latestAuditCheckpointEvents(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ events: string | null }>('SELECT max(events) AS events FROM audit_checkpoints');
  return Number(rows[0]?.events ?? 0);
}

/** Every stored checkpoint, oldest first. */
export async function listAuditCheckpoints(pool: Pool): Promise<AuditCheckpoint[]> {
  const { rows } = await pool.query<CheckpointRow>('SELECT events, head_hash, at, mac FROM audit_checkpoints ORDER BY events');
  return rows.map((row) => ({ events: Number(row.events), headHash: row.head_hash, at: row.at.toISOString(), mac: row.mac }));
}
