/**
 * An audit trail with signed checkpoints, and the ways an attacker holding the database superuser could rewrite
 * it (triggers disabled, as a superuser can): shared by the API and CLI suites, which must both detect each one.
 */
import { createHmac } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { PoolClient } from 'pg';
import pino from 'pino';
import { checkpointLogFile, writeCheckpoint } from '../../src/audit/checkpoints';
import type { AuditVerification } from '../../src/audit/verify';
import { appendAuditEvent, auditChainHead, auditEventHash, listAuditEvents } from '../../src/store/audit';
import { withTransaction } from '../../src/store/db';
import type { TestDatabase } from './database';

export const TEST_CHECKPOINT_KEY = 'test-checkpoint-key-0123456789abcdef-0123456789';

/**
 * Eleven events, signed at 6 and at 9 events (in the table and in `dataDir`'s checkpoint file); 10 and 11 are
 * newer than the last checkpoint, as the newest events always are between two ticks of the writer.
 */
export async function buildAnchoredChain(db: TestDatabase, dataDir: string): Promise<void> {
  const writer = { pool: db.pool, key: TEST_CHECKPOINT_KEY, file: checkpointLogFile(dataDir), logger: pino({ level: 'silent' }) };
  for (let seq = 1; seq <= 11; seq += 1) {
    await appendAuditEvent(db.pool, {
      actor: seq % 2 === 0 ? 'gina' : 'olga',
      roles: seq % 2 === 0 ? ['guardian'] : ['operator'],
      action: seq % 3 === 0 ? 'patch.approved' : 'http.request',
      subjectType: 'patch',
      subjectId: 'p1',
      details: { step: seq },
    });
    if (seq === 6 || seq === 9) await writeCheckpoint(writer);
  }
}

/** Runs `tamper` as the database superuser with the append-only triggers switched off. */
async function asSuperuser(db: TestDatabase, tamper: (client: PoolClient) => Promise<void>): Promise<void> {
  await withTransaction(db.ownerPool, async (client) => {
    await client.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await client.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
    await tamper(client);
    await client.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    await client.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
  });
}

export interface TamperScenario {
  name: string;
  tamper(db: TestDatabase): Promise<void>;
  expected: Omit<AuditVerification, 'problems'>;
  /** Each must match one of the problems reported. */
  problems: RegExp[];
}

export const tamperScenarios: TamperScenario[] = [
  {
    name: 'an edited row',
    tamper: (db) => asSuperuser(db, async (client) => {
      await client.query(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 4`);
    }),
    expected: { ok: false, events: 11, checkpoints: 2, firstBrokenSeq: 4 },
    problems: [/Event 4 does not match its hash/],
  },
  {
    name: 'an edited row with every later hash recomputed',
    tamper: (db) => asSuperuser(db, async (client) => {
      let prevHash = '';
      for (const event of await listAuditEvents(db.ownerPool, { limit: 1000 })) {
        if (event.seq < 7) {
          prevHash = event.hash;
          continue;
        }
        const { hash: _stored, ...unhashed } = { ...event, prevHash, actor: event.seq === 7 ? 'mallory' : event.actor };
        const hash = auditEventHash(unhashed);
        await client.query('UPDATE audit_events SET actor = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [event.seq, unhashed.actor, prevHash, hash]);
        prevHash = hash;
      }
    }),
    // The chain is consistent again; only the checkpoint at 9 (the one at 6 still matches) gives it away.
    expected: { ok: false, events: 11, checkpoints: 2, firstBrokenSeq: 7 },
    problems: [/The chain's hash at event 9 differs from the signed checkpoint/],
  },
  {
    name: 'the newest rows deleted, with their checkpoint rows (the file is out of reach)',
    tamper: (db) => asSuperuser(db, async (client) => {
      await client.query('DELETE FROM audit_events WHERE seq > 7');
      await client.query('DELETE FROM audit_checkpoints WHERE events > 7');
    }),
    expected: { ok: false, events: 7, checkpoints: 2, firstBrokenSeq: 8 },
    problems: [/vouches for 9 events but the chain ends at event 7: the newest events were deleted/, /checkpoint at 9 events .* is missing from the audit_checkpoints table/],
  },
  {
    name: 'a forged checkpoint row (wrong MAC)',
    tamper: async (db) => {
      // The real head, so only the signature can give it away; the attacker does not have the key.
      const head = await auditChainHead(db.ownerPool);
      const at = new Date().toISOString();
      const mac = createHmac('sha256', 'a-key-the-attacker-made-up-0123456789abcdef').update(canonicalize({ events: head.events, headHash: head.headHash, at }) ?? '').digest('hex');
      await db.ownerPool.query('INSERT INTO audit_checkpoints (events, head_hash, at, mac) VALUES ($1, $2, $3, $4)', [head.events, head.headHash, at, mac]);
    },
    // No event is shown altered: only the checkpoint record is false.
    expected: { ok: false, events: 11, checkpoints: 3, firstBrokenSeq: null },
    problems: [/checkpoint at 11 events in the audit_checkpoints table has an invalid signature/],
  },
];

export const untouched: Omit<TamperScenario, 'tamper'> = {
  name: 'an untouched chain',
  expected: { ok: true, events: 11, checkpoints: 2, firstBrokenSeq: null },
  problems: [],
};

/** Every expected problem is among those reported (and an intact chain reports none). */
export function expectProblems(reported: readonly string[], expected: readonly RegExp[]): void {
  if (expected.length === 0) expect(reported).toEqual([]);
  for (const pattern of expected) expect(reported).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
}
