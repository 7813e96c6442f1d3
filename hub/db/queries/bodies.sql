-- Claim checks (hub/broker/claims.py, hub/http/bodies.py): a large package's bytes, fetched by
-- the recipient's system with the delivery's message id.

-- name: claimed_body
-- Who may fetch it (the system now hosting the recipient) and how the bytes are kept:
-- compressed ones are read whole (a slice of a compressed value is decompressed from its start).
SELECT p.id AS package_id, p.size_bytes, p.digest, a.system_id, p.body IS NULL AS dropped,
       p.body_dropped_at, pg_column_compression(p.body) IS NOT NULL AS compressed
FROM delivery d
JOIN package p ON p.id = d.package_id
JOIN agency a ON a.organ_id = d.recipient
WHERE d.message_id = $1 AND d.kind <> 'receipt';

-- name: body_slice
-- $2: the first byte (1-based), $3: how many.
SELECT substring(body FROM $2::int FOR $3::int) FROM package WHERE id = $1;

-- name: body_whole
SELECT body FROM package WHERE id = $1;
