-- name: agency_get
SELECT organ_id, name, legacy_id, state, created_at, state_changed_at, last_seen_at
FROM agency WHERE organ_id = $1;

-- name: agency_list
SELECT a.organ_id, a.name, a.legacy_id, a.state, a.created_at, a.last_seen_at,
       count(c.fingerprint) AS certificates,
       max(c.not_after) AS latest_cert_expiry
FROM agency a LEFT JOIN agency_certificate c USING (organ_id)
GROUP BY a.organ_id ORDER BY a.organ_id;

-- name: agency_insert
INSERT INTO agency (organ_id, name, legacy_id, http_token_hash) VALUES ($1, $2, $3, $4);

-- name: agency_set_state
UPDATE agency SET state = $2, state_changed_at = now()
WHERE organ_id = $1 AND state <> $2
RETURNING organ_id;

-- name: agency_by_token
SELECT organ_id, state FROM agency WHERE http_token_hash = $1;

-- name: trusted_ca_list
SELECT fingerprint, subject, not_after, pem, source FROM trusted_ca ORDER BY added_at;

-- name: trusted_ca_insert
INSERT INTO trusted_ca (fingerprint, subject, not_before, not_after, pem, source)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (fingerprint) DO NOTHING
RETURNING fingerprint;

-- name: certificate_owner
SELECT organ_id FROM agency_certificate WHERE fingerprint = $1;

-- name: certificate_insert
INSERT INTO agency_certificate
    (fingerprint, organ_id, ca_fingerprint, subject, serial, not_before, not_after, key_type, pem)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: certificate_list_for_agency
SELECT fingerprint, subject, serial, not_before, not_after, key_type, registered_at
FROM agency_certificate WHERE organ_id = $1 ORDER BY not_after;

-- name: event_append
-- Appends one link to a chain; the hash chain itself is computed by hub.records (issue 7
-- extends this). seq is the next number in the chain, under the chain's advisory lock.
INSERT INTO event (chain, seq, kind, document_id, organ_id, actor, payload, prev_hash, hash)
SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6::jsonb, NULL, NULL
FROM event WHERE chain = $1
RETURNING id, seq;

-- name: ping
SELECT 1;

-- name: operator_insert
INSERT INTO operator (name, role, token_hash) VALUES ($1, $2, $3);

-- name: operator_get
SELECT name, role, created_at, disabled_at FROM operator WHERE name = $1;

-- name: operator_by_token
SELECT name, role FROM operator WHERE token_hash = $1 AND disabled_at IS NULL;

-- name: operator_list
SELECT name, role, created_at, disabled_at FROM operator ORDER BY name;

-- name: crl_insert
INSERT INTO crl (ca_fingerprint, this_update, next_update, der) VALUES ($1, $2, $3, $4)
RETURNING id;

-- name: revoked_upsert
INSERT INTO revoked_certificate (ca_fingerprint, serial, revoked_at, crl_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT (ca_fingerprint, serial) DO UPDATE SET crl_id = EXCLUDED.crl_id;

-- name: crl_latest
SELECT this_update FROM crl WHERE ca_fingerprint = $1 ORDER BY this_update DESC LIMIT 1;
