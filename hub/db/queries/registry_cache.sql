-- The registry as a running hub holds it (hub/registry/registry_cache.py): loaded whole at start, then
-- followed change by change through registry_change.

-- name: registry_horizon
-- The oldest transaction still running: every change of an older one is visible now.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint;

-- name: registry_changes_since
-- Changes of transactions at or after the horizon of the last look ($1), at most $2 of them.
-- Ordered by txid so that the txid index both finds and orders them (by id, the planner walks
-- the primary key through every row); the order of applying does not matter.
SELECT id, kind, key FROM registry_change
WHERE txid >= $1::text::xid8
ORDER BY txid
LIMIT $2;

-- name: registry_changes_prune
DELETE FROM registry_change WHERE at < now() - interval '1 day';

-- name: registry_agencies
SELECT organ_id, state, system_id, successor_id, closed_on FROM agency;

-- name: registry_agencies_by_id
SELECT organ_id, state, system_id, successor_id, closed_on FROM agency
WHERE organ_id = ANY($1::text[]);

-- name: registry_systems
SELECT system_id, state, unsigned_policy FROM system;

-- name: registry_systems_by_id
SELECT system_id, state, unsigned_policy FROM system WHERE system_id = ANY($1::text[]);

-- name: registry_certificates
-- Retired certificates sign nothing new: the cache does not hold them.
SELECT fingerprint, organ_id, ca_fingerprint, serial, not_before, not_after FROM agency_certificate
WHERE retired_at IS NULL;

-- name: registry_certificates_by_fingerprint
SELECT fingerprint, organ_id, ca_fingerprint, serial, not_before, not_after FROM agency_certificate
WHERE fingerprint = ANY($1::bytea[]) AND retired_at IS NULL;

-- name: registry_trusted
SELECT fingerprint, pem FROM trusted_ca WHERE untrusted_at IS NULL;

-- name: registry_trusted_by_fingerprint
SELECT fingerprint, pem FROM trusted_ca
WHERE fingerprint = ANY($1::bytea[]) AND untrusted_at IS NULL;

-- name: registry_revoked
SELECT ca_fingerprint, serial FROM revoked_certificate;

-- name: registry_revoked_by_ca
SELECT ca_fingerprint, serial FROM revoked_certificate WHERE ca_fingerprint = ANY($1::bytea[]);

-- name: registry_crls
-- Each trusted CA's latest CRL (by thisUpdate): when the next one is due.
SELECT DISTINCT ON (ca_fingerprint) ca_fingerprint, next_update
FROM crl ORDER BY ca_fingerprint, this_update DESC;

-- name: registry_crls_by_ca
SELECT DISTINCT ON (ca_fingerprint) ca_fingerprint, next_update
FROM crl WHERE ca_fingerprint = ANY($1::bytea[]) ORDER BY ca_fingerprint, this_update DESC;
