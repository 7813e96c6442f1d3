-- Tamper-evident records: seals, and the walk of `lienthong audit verify`.

-- name: chain_heads
SELECT chain, seq, hash FROM chain_head ORDER BY chain;

-- name: seal_last
SELECT seq, body, heads FROM seal ORDER BY seq DESC LIMIT 1;

-- name: seal_insert
INSERT INTO seal (seq, body, heads, signature, certificate, created_at)
VALUES ($1, $2, $3::jsonb, $4, $5, $6);

-- name: seals_all
SELECT seq, body, heads, signature, certificate FROM seal ORDER BY seq;

-- name: events_walk
-- Every link, chain by chain, in order.
SELECT chain, seq, kind, document_id, organ_id, actor, payload::text AS payload, prev_hash, hash,
       created_at
FROM event ORDER BY chain, seq;

-- name: events_segment
-- One chain from seq $2 to $3, inclusive.
SELECT chain, seq, kind, document_id, organ_id, actor, payload::text AS payload, prev_hash, hash,
       created_at
FROM event WHERE chain = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq;

-- name: seal_covering
-- The first seal whose heads reach past seq $2 of chain $1, i.e. that covers that link.
SELECT seq, body, heads, signature, certificate FROM seal
WHERE EXISTS (
    SELECT 1 FROM jsonb_array_elements(heads) h
    WHERE h->>'chain' = $1 AND (h->>'seq')::bigint >= $2
)
ORDER BY seq LIMIT 1;

-- name: evidence_packages
-- Every package linked to the document (document, updates, revocation, statuses), with its
-- receipt and the signer's registered certificate.
SELECT p.id, p.kind, p.message_id, p.submitter, p.outcome, p.code, p.detail, p.body,
       p.digest, p.body_dropped_at, p.body_archive,
       p.channel, p.signer IS NOT NULL AS signed, r.xml AS receipt, c.pem AS signer_pem
FROM package p
LEFT JOIN receipt r ON r.package_id = p.id
LEFT JOIN agency_certificate c ON c.fingerprint = p.signer
WHERE p.document_ref = $1
ORDER BY p.decided_at, p.id;

-- name: evidence_links
-- The links about those packages (accepted, delivered, …) and the document's overdue flags.
SELECT chain, seq FROM event
WHERE (payload ? 'package' AND (payload->>'package')::bigint = ANY($1::bigint[]))
   OR (kind = 'overdue' AND document_id = $2 AND payload->>'sender' = $3)
ORDER BY chain, seq;

-- name: backup_figures
-- What a backup's manifest says of the records (hub/backups.py).
SELECT now() AS at, (SELECT count(*) FROM event) AS links,
       (SELECT count(*) FROM chain_head) AS chains,
       (SELECT count(*) FROM package) AS packages,
       (SELECT coalesce(max(version), 0) FROM schema_migration) AS schema;

-- name: restores
-- The restores recorded on the hub's chain (lienthong restore), oldest first.
SELECT created_at, payload::text AS payload FROM event WHERE chain = 'hub' AND kind = 'restored'
ORDER BY seq;

-- name: public_tables
SELECT count(*) FROM pg_tables WHERE schemaname = 'public';

-- name: event_count
-- How many links the log holds (audit verify's progress bar; an estimate is enough).
SELECT count(*) FROM event;
