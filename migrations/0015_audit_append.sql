-- Audit events are chained in one statement (issue 13). The chain lock is held from the append to the end of the
-- caller's transaction; chaining in the client took three round trips under it (the head, the insert, the commit),
-- each waiting for a busy client's event loop, and every other append in both processes waited behind them.
--
-- The client sends each event's fields and its canonical JSON (RFC 8785) cut where the previous hash and the
-- sequence number go (hash_head, hash_middle, hash_tail): the hash is SHA-256 over the previous hash and that JSON,
-- the same bytes auditEventHash in src/store/audit.ts hashes. An idempotency key already stored (or repeated in the
-- same call) returns the stored event instead of a new one. Events come back in the order given.
CREATE FUNCTION append_audit_events(events jsonb) RETURNS SETOF audit_events LANGUAGE plpgsql AS $$
DECLARE
  event jsonb;
  stored audit_events;
  head_seq bigint;
  head_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(7230415002);
  SELECT seq, hash INTO head_seq, head_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
  head_seq := coalesce(head_seq, 0);
  head_hash := coalesce(head_hash, '');
  FOR event IN SELECT value FROM jsonb_array_elements(events) WITH ORDINALITY ORDER BY ordinality LOOP
    IF event ->> 'idempotencyKey' IS NOT NULL THEN
      SELECT * INTO stored FROM audit_events WHERE idempotency_key = event ->> 'idempotencyKey';
      IF FOUND THEN
        RETURN NEXT stored;
        CONTINUE;
      END IF;
    END IF;
    head_seq := head_seq + 1;
    INSERT INTO audit_events (seq, id, idempotency_key, at, actor, roles, action, subject_type, subject_id, request_id,
        ip, user_agent, method, path, status, details, prev_hash, hash)
      VALUES (head_seq, (event ->> 'id')::uuid, event ->> 'idempotencyKey', (event ->> 'at')::timestamptz,
        event ->> 'actor', ARRAY(SELECT jsonb_array_elements_text(event -> 'roles')), event ->> 'action',
        event ->> 'subjectType', event ->> 'subjectId', event ->> 'requestId', event ->> 'ip', event ->> 'userAgent',
        event ->> 'method', event ->> 'path', (event ->> 'status')::integer, event -> 'details', head_hash,
        encode(sha256(convert_to(head_hash || (event ->> 'hashHead') || '"' || head_hash || '"' || (event ->> 'hashMiddle')
          || head_seq::text || (event ->> 'hashTail'), 'UTF8')), 'hex'))
      RETURNING * INTO stored;
    head_hash := stored.hash;
    RETURN NEXT stored;
  END LOOP;
END;
$$;
