-- Retention of package bodies (hub/retention.py).

-- name: retention_candidates
-- Packages decided before $1 that still hold their bytes and have no delivery waiting to be
-- published (the sweeper would need the bytes), after id $2, at most $3.
SELECT p.id, p.digest, p.body, p.decided_at FROM package p
WHERE p.decided_at < $1 AND p.body IS NOT NULL AND p.id > $2
  AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.package_id = p.id AND d.state = 'pending')
ORDER BY p.id
LIMIT $3;

-- name: retention_figures
-- What retention before $1 would free: packages and bytes; acknowledged gateway inbox copies.
SELECT (SELECT count(*) FROM package p
        WHERE p.decided_at < $1 AND p.body IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM delivery d
                          WHERE d.package_id = p.id AND d.state = 'pending')) AS packages,
       (SELECT coalesce(sum(octet_length(p.body)), 0) FROM package p
        WHERE p.decided_at < $1 AND p.body IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM delivery d
                          WHERE d.package_id = p.id AND d.state = 'pending')) AS bytes,
       (SELECT count(*) FROM gateway_inbox WHERE acked_at < $1) AS inbox_copies;

-- name: retention_release
-- The bytes of these packages leave the database; where they went (NULL: dropped).
UPDATE package SET body = NULL, body_dropped_at = now(), body_archive = u.archive
FROM unnest($1::bigint[], $2::text[]) AS u(id, archive)
WHERE package.id = u.id AND package.body IS NOT NULL;

-- name: retention_inbox_copies
-- Copies of messages the gateway inbox handed out and that were acknowledged before $1.
DELETE FROM gateway_inbox WHERE acked_at < $1;
