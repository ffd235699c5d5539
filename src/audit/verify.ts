/**
 * Verification of the audit trail, shared by `GET /api/v1/audit/verify` and `wpa audit verify`: every event's
 * hash and link, then every signed checkpoint (from the table and the file) against the chain.
 */
import type { Pool } from 'pg';
import { type AuditCheckpoint, type AuditEvent, auditEventHash, listAuditCheckpoints, listAuditEvents } from '../store/audit';
import { hasValidMac, readCheckpointFile } from './checkpoints';

export interface AuditVerification {
  /** No sign of tampering. Without a key only the chain itself counts. */
  ok: boolean;
  /** Events in the chain as stored now. */
  events: number;
  /** Distinct checkpoints found, table and file together (one per event count). */
  checkpoints: number;
  /**
   * The first event that can no longer be trusted: the first whose hash or link fails; after a recomputed chain,
   * the one after the last checkpoint that still matches; after deleted newest events, events + 1. Null when ok,
   * and when only a checkpoint record itself is wrong (a forged or altered checkpoint).
   */
  firstBrokenSeq: number | null;
  /** What is wrong (or could not be checked), as sentences. */
  problems: string[];
}

export interface AuditVerificationOptions {
  pool: Pool;
  /** The checkpoint key; undefined: checkpoints cannot be checked, which is reported but does not fail. */
  key: string | undefined;
  /** This installation's checkpoint file (src/audit/checkpoints.ts checkpointLogFile); it may not exist. */
  checkpointFile: string;
  pageSize?: number;
}

/** Beyond this many, problems with events are counted rather than listed: one screen should tell the story. */
const MAX_LISTED_EVENT_PROBLEMS = 20;
const TABLE = 'the audit_checkpoints table';

function sameCheckpoint(a: AuditCheckpoint, b: AuditCheckpoint): boolean {
  return a.events === b.events && a.headHash === b.headHash && a.at === b.at && a.mac === b.mac;
}

interface Anchors {
  /** Checkpoints found, valid or not. */
  count: number;
  /** Event count -> the head hashes validly signed for it (one, unless the key was used to sign a lie). */
  hashes: Map<number, Set<string>>;
  tampering: string[];
}

/**
 * The checkpoints of the table and the file, one entry per event count; with the key, the validly signed heads
 * and what is wrong with the rest. Without it nothing can be told apart from a forgery, so nothing is judged.
 */
async function collectAnchors(pool: Pool, key: string | undefined, file: string): Promise<Anchors> {
  const [stored, logged] = await Promise.all([listAuditCheckpoints(pool), readCheckpointFile(file)]);
  const byEvents = new Map<number, { stored?: AuditCheckpoint; logged: Array<{ line: number; checkpoint: AuditCheckpoint }> }>();
  for (const checkpoint of stored) byEvents.set(checkpoint.events, { stored: checkpoint, logged: [] });
  for (const entry of logged.checkpoints) {
    const found = byEvents.get(entry.checkpoint.events);
    if (found) found.logged.push(entry);
    else byEvents.set(entry.checkpoint.events, { logged: [entry] });
  }
  const hashes = new Map<number, Set<string>>();
  if (!key) return { count: byEvents.size, hashes, tampering: [] };
  const tampering = [...logged.problems];
  const anchor = (checkpoint: AuditCheckpoint): void => {
    hashes.set(checkpoint.events, (hashes.get(checkpoint.events) ?? new Set<string>()).add(checkpoint.headHash));
  };
  for (const [events, found] of [...byEvents].sort(([a], [b]) => a - b)) {
    const { stored: inTable, logged: inFile } = found;
    if (inTable) {
      if (hasValidMac(key, inTable)) anchor(inTable);
      else tampering.push(`The checkpoint at ${events} events in ${TABLE} has an invalid signature: it was not written with this installation's key.`);
      if (inFile.some(({ checkpoint }) => !sameCheckpoint(checkpoint, inTable))) {
        tampering.push(`The checkpoint at ${events} events differs between ${TABLE} and ${file}: one of them was altered.`);
      }
    } else if (inFile.length > 0) {
      tampering.push(`The checkpoint at ${events} events in ${file} is missing from ${TABLE}: checkpoints were deleted from the database.`);
    }
    for (const { line, checkpoint } of inFile) {
      if (hasValidMac(key, checkpoint)) anchor(checkpoint);
      else tampering.push(`The checkpoint at ${events} events on line ${line} of ${file} has an invalid signature: it was not written with this installation's key.`);
    }
  }
  return { count: byEvents.size, hashes, tampering };
}

/** Each event's own hash and its link to the one before, in chain order. */
class EventCheck {
  firstBroken: number | null = null;
  readonly problems: string[] = [];
  private unlisted = 0;
  private lastSeq = 0;
  private prevHash = '';

  get end(): number {
    return this.lastSeq;
  }

  check(event: AuditEvent): void {
    const { hash, ...unhashed } = event;
    if (event.seq !== this.lastSeq + 1) {
      const missing = event.seq - 1 === this.lastSeq + 1 ? `Event ${this.lastSeq + 1} is` : `Events ${this.lastSeq + 1} to ${event.seq - 1} are`;
      this.report(this.lastSeq + 1, `${missing} missing from the chain.`);
    } else if (event.prevHash !== this.prevHash) {
      this.report(event.seq, `Event ${event.seq} does not link to the event before it: that event was changed or removed.`);
    }
    if (auditEventHash(unhashed) !== hash) {
      this.report(event.seq, `Event ${event.seq} does not match its hash: its content was changed after it was written.`);
    }
    this.prevHash = hash;
    this.lastSeq = event.seq;
  }

  summary(): string[] {
    return this.unlisted > 0 ? [...this.problems, `${this.unlisted} more problems with events are not listed.`] : this.problems;
  }

  private report(seq: number, message: string): void {
    this.firstBroken ??= seq;
    if (this.problems.length < MAX_LISTED_EVENT_PROBLEMS) this.problems.push(message);
    else this.unlisted += 1;
  }
}

/** The signed heads against the chain, in event order: the first that differs shows where a rewrite began. */
class AnchorCheck {
  lastMatching = 0;
  firstMismatch: number | null = null;
  private readonly pending: number[];
  private readonly problems: string[] = [];
  private laterMismatches = 0;
  /** Checkpoints at events the chain no longer has (EventCheck reports the gap itself). */
  private readonly missing: number[] = [];

  constructor(private readonly hashes: Map<number, Set<string>>) {
    this.pending = [...hashes.keys()].sort((a, b) => b - a);
  }

  /** Checks every checkpoint up to `event`; those in a gap before it name an event that is gone. */
  passed(event: AuditEvent): void {
    for (let events = this.pending.at(-1); events !== undefined && events <= event.seq; events = this.pending.at(-1)) {
      this.pending.pop();
      if (events === event.seq) this.compare(events, event.hash);
      else this.missing.push(events);
    }
  }

  /** After the walk: the checkpoints beyond the chain's end mean its newest events were deleted. */
  finish(chainEnd: number): { problems: string[]; truncatedAt: number | null } {
    const problems = [...this.problems];
    if (this.laterMismatches > 0) problems.push(`${this.laterMismatches} later signed checkpoints do not match the chain either.`);
    const [firstMissing] = this.missing;
    if (firstMissing !== undefined) {
      const others = this.missing.length - 1;
      problems.push(
        `The signed checkpoint at ${firstMissing} events names an event ${firstMissing} that the chain no longer has` +
          (others > 0 ? `, and so do ${others} later checkpoints.` : '.'),
      );
    }
    const newest = this.pending[0];
    if (newest === undefined) return { problems, truncatedAt: null };
    problems.push(`A signed checkpoint vouches for ${newest} events but the chain ends at event ${chainEnd}: the newest events were deleted.`);
    return { problems, truncatedAt: chainEnd + 1 };
  }

  private compare(events: number, chainHash: string): void {
    if ([...(this.hashes.get(events) ?? [])].every((hash) => hash === chainHash)) {
      if (this.firstMismatch === null) this.lastMatching = events;
    } else if (this.firstMismatch !== null) {
      this.laterMismatches += 1;
    } else {
      this.firstMismatch = events;
      this.problems.push(`The chain's hash at event ${events} differs from the signed checkpoint: events up to ${events} were changed and the hashes recomputed.`);
    }
  }
}

export async function verifyAuditTrail(options: AuditVerificationOptions): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 1000;
  const anchors = await collectAnchors(options.pool, options.key, options.checkpointFile);
  const eventCheck = new EventCheck();
  const anchorCheck = new AnchorCheck(anchors.hashes);
  let events = 0;
  for (;;) {
    const page = await listAuditEvents(options.pool, { afterSeq: eventCheck.end, limit: pageSize });
    for (const event of page) {
      eventCheck.check(event);
      anchorCheck.passed(event);
      events += 1;
    }
    if (page.length < pageSize) break;
  }
  const anchored = anchorCheck.finish(eventCheck.end);
  const tampering = [...eventCheck.summary(), ...anchored.problems, ...anchors.tampering];
  const broken = [
    eventCheck.firstBroken,
    anchorCheck.firstMismatch === null ? null : anchorCheck.lastMatching + 1,
    anchored.truncatedAt,
  ].filter((seq): seq is number => seq !== null);
  const notes = options.key
    ? []
    : ['The checkpoints were not checked: there is no checkpoint key (AUDIT_CHECKPOINT_KEY, or the audit-checkpoint-key file `npm start` generates in the data folder). Only the hash chain itself was verified.'];
  return {
    ok: tampering.length === 0,
    events,
    checkpoints: anchors.count,
    firstBrokenSeq: broken.length > 0 ? Math.min(...broken) : null,
    problems: [...tampering, ...notes],
  };
}
