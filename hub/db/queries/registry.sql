-- name: agency_get
SELECT organ_id, name, legacy_id, state, created_at, state_changed_at, last_seen_at, system_id,
       parent_id, successor_id, closed_on
FROM agency WHERE organ_id = $1;

-- name: agency_list
SELECT a.organ_id, a.name, a.legacy_id, a.state, a.created_at, a.last_seen_at, a.system_id,
       a.parent_id, a.successor_id, a.closed_on,
       count(c.fingerprint) AS certificates,
       max(c.not_after) AS latest_cert_expiry
FROM agency a LEFT JOIN agency_certificate c USING (organ_id)
GROUP BY a.organ_id ORDER BY a.organ_id;

-- name: agency_insert
INSERT INTO agency (organ_id, name, legacy_id, system_id, parent_id) VALUES ($1, $2, $3, $4, $5);

-- name: agency_set_state
UPDATE agency SET state = $2, state_changed_at = now(), updated_at = now()
WHERE organ_id = $1 AND state <> $2
RETURNING organ_id;

-- name: agency_move
UPDATE agency SET system_id = $2, updated_at = now()
WHERE organ_id = $1 AND system_id <> $2
RETURNING organ_id;

-- name: agency_close
UPDATE agency SET successor_id = $2, closed_on = $3, updated_at = now()
WHERE organ_id = $1
RETURNING organ_id;

-- name: agency_closures
SELECT organ_id, successor_id FROM agency WHERE successor_id IS NOT NULL;

-- name: system_get
SELECT system_id, name, state, unsigned_policy, created_at, state_changed_at, last_seen_at
FROM system WHERE system_id = $1;

-- name: system_insert
INSERT INTO system (system_id, name, http_token_hash, vxp_sealed) VALUES ($1, $2, $3, $4);

-- name: system_list
SELECT s.system_id, s.name, s.state, s.unsigned_policy, s.created_at, s.last_seen_at,
       count(a.organ_id) AS agencies
FROM system s LEFT JOIN agency a USING (system_id)
GROUP BY s.system_id ORDER BY s.system_id;

-- name: system_set_state
UPDATE system SET state = $2, state_changed_at = now()
WHERE system_id = $1 AND state <> $2
RETURNING system_id;

-- name: system_set_policy
UPDATE system SET unsigned_policy = $2 WHERE system_id = $1 RETURNING system_id;

-- name: system_by_token
SELECT system_id, state FROM system WHERE http_token_hash = $1;

-- name: system_hosts
-- Whether system $1 hosts agency $2.
SELECT EXISTS (SELECT 1 FROM agency WHERE organ_id = $2 AND system_id = $1);

-- name: trusted_ca_list
-- The CAs the hub trusts now (not those untrusted since).
SELECT fingerprint, subject, not_after, pem, source FROM trusted_ca
WHERE untrusted_at IS NULL ORDER BY added_at;

-- name: ca_list_all
-- Every CA ever trusted, with when it was untrusted (NULL: trusted).
SELECT fingerprint, subject, not_after, pem, source, untrusted_at FROM trusted_ca
ORDER BY added_at;

-- name: trusted_ca_insert
-- A new CA, or one untrusted earlier trusted again; no row when it is trusted already.
INSERT INTO trusted_ca (fingerprint, subject, not_before, not_after, pem, source)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (fingerprint) DO UPDATE SET untrusted_at = NULL
    WHERE trusted_ca.untrusted_at IS NOT NULL
RETURNING fingerprint;

-- name: ca_by_prefix
SELECT fingerprint, subject, pem, untrusted_at FROM trusted_ca
WHERE encode(fingerprint, 'hex') LIKE $1 || '%';

-- name: ca_untrust
UPDATE trusted_ca SET untrusted_at = now() WHERE fingerprint = $1 AND untrusted_at IS NULL;

-- name: certificate_owner
SELECT organ_id FROM agency_certificate WHERE fingerprint = $1;

-- name: certificate_insert
INSERT INTO agency_certificate
    (fingerprint, organ_id, ca_fingerprint, subject, serial, not_before, not_after, key_type, pem)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: certificate_list_for_agency
SELECT fingerprint, subject, serial, not_before, not_after, key_type, registered_at
FROM agency_certificate WHERE organ_id = $1 ORDER BY not_after;

-- name: certificate_list
-- Agency certificates, of one agency ($1) or of all (NULL), retired ones too.
SELECT organ_id, fingerprint, subject, serial, not_before, not_after, key_type, registered_at,
       retired_at
FROM agency_certificate WHERE $1::text IS NULL OR organ_id = $1
ORDER BY organ_id, not_after;

-- name: certificate_by_prefix
-- The certificates whose SHA-256 fingerprint starts with $1 (hex, lower case).
SELECT organ_id, fingerprint, subject, not_after, retired_at FROM agency_certificate
WHERE encode(fingerprint, 'hex') LIKE $1 || '%';

-- name: certificate_retire
UPDATE agency_certificate SET retired_at = now() WHERE fingerprint = $1 AND retired_at IS NULL;

-- name: event_append
-- One link in one statement: the upsert on chain_head locks the chain until the transaction
-- ends, moves its head (hash = SHA-256(prev ‖ $7, the link's content digest; hub/audit/chain.py)) and
-- hands the event row its seq, prev_hash and hash. $8 is the genesis hash.
WITH head AS (
    INSERT INTO chain_head AS h (chain, seq, prev, hash) VALUES ($1, 1, $8::bytea, sha256($8::bytea || $7::bytea))
    ON CONFLICT (chain) DO UPDATE SET seq = h.seq + 1, prev = h.hash, hash = sha256(h.hash || $7::bytea)
    RETURNING seq, prev, hash
)
INSERT INTO event (chain, seq, kind, document_id, organ_id, actor, payload, prev_hash, hash,
                   created_at)
SELECT $1, head.seq, $2, $3, $4, $5, $6::jsonb, head.prev, head.hash, $9 FROM head;

-- name: ping
SELECT 1;

-- name: operator_insert
INSERT INTO operator (name, role, token_hash) VALUES ($1, $2, $3);

-- name: operator_get
SELECT name, role, created_at, disabled_at FROM operator WHERE name = $1;

-- name: operator_by_token
SELECT name, role FROM operator WHERE token_hash = $1 AND disabled_at IS NULL;

-- name: crl_insert
INSERT INTO crl (ca_fingerprint, this_update, next_update, der) VALUES ($1, $2, $3, $4)
RETURNING id;

-- name: revoked_upsert
-- Every entry of a CRL in one statement (a national CA's list can hold 100,000+ serials).
INSERT INTO revoked_certificate (ca_fingerprint, serial, revoked_at, crl_id)
SELECT $1, u.serial, u.revoked_at, $4
FROM unnest($2::numeric[], $3::timestamptz[]) AS u(serial, revoked_at)
ON CONFLICT (ca_fingerprint, serial) DO UPDATE SET crl_id = EXCLUDED.crl_id;

-- name: crl_latest
SELECT this_update FROM crl WHERE ca_fingerprint = $1 ORDER BY this_update DESC LIMIT 1;

-- name: trusted_ca_set_crl_url
UPDATE trusted_ca SET crl_url = $2 WHERE fingerprint = $1;

-- name: trusted_ca_crl_sources
SELECT fingerprint, subject, crl_url FROM trusted_ca
WHERE crl_url IS NOT NULL AND untrusted_at IS NULL ORDER BY subject;

-- name: crl_status
-- Each trusted CA with its latest CRL, if any.
SELECT t.fingerprint, t.subject, t.crl_url, c.this_update, c.next_update, c.loaded_at
FROM trusted_ca t
LEFT JOIN LATERAL (SELECT this_update, next_update, loaded_at FROM crl
                   WHERE crl.ca_fingerprint = t.fingerprint
                   ORDER BY this_update DESC LIMIT 1) c ON true
WHERE t.untrusted_at IS NULL
ORDER BY t.subject;

-- name: certificates_expiring
-- Agency certificates (not retired) and trusted CAs whose validity ends before $1.
SELECT 'agency' AS what, organ_id AS owner, subject, fingerprint, not_after
FROM agency_certificate WHERE not_after < $1 AND retired_at IS NULL
UNION ALL
SELECT 'ca', NULL, subject, fingerprint, not_after FROM trusted_ca
WHERE not_after < $1 AND untrusted_at IS NULL
ORDER BY not_after;

-- name: certificate_expiries
SELECT organ_id, fingerprint, not_after FROM agency_certificate WHERE retired_at IS NULL
UNION ALL
SELECT 'ca', fingerprint, not_after FROM trusted_ca WHERE untrusted_at IS NULL;

-- name: vxp_plaintext_secrets
SELECT system_id, vxp_secret FROM system WHERE vxp_secret IS NOT NULL;

-- name: vxp_seal_plaintext
UPDATE system SET vxp_sealed = $2, vxp_secret = NULL WHERE system_id = $1;

-- name: vxp_secrets_of
SELECT vxp_secret, vxp_sealed, vxp_previous_sealed,
       coalesce(vxp_previous_until > now(), false) AS previous_valid
FROM system WHERE system_id = $1;

-- name: vxp_rotate
-- $4: seconds the previous secret stays valid.
UPDATE system SET vxp_previous_sealed = $3, vxp_sealed = $2, vxp_secret = NULL,
                  vxp_previous_until = now() + make_interval(secs => $4)
WHERE system_id = $1
RETURNING vxp_previous_until;

-- name: system_set_token
UPDATE system SET http_token_hash = $2 WHERE system_id = $1 RETURNING system_id;

-- name: operator_list
SELECT name, role, created_at, disabled_at FROM operator ORDER BY name;

-- name: operator_revoke
UPDATE operator SET disabled_at = now() WHERE name = $1 AND disabled_at IS NULL
RETURNING name;
