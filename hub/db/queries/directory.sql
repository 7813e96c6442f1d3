-- The national directory (hub/registry/directory.py): bulk import and export, search over HTTP.

-- name: directory_all
SELECT organ_id, name, parent_id, system_id, state, successor_id, closed_on
FROM agency ORDER BY organ_id;

-- name: directory_upsert
-- Every added or changed agency of an import in one statement, its columns as arrays (foreign
-- keys are checked at the statement's end, so a successor added by the same import is there).
-- legacy_id says whether the id is outside the national form.
INSERT INTO agency AS a (organ_id, name, legacy_id, system_id, parent_id, state, successor_id,
                         closed_on)
SELECT u.organ_id, u.name, u.organ_id !~ '^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$',
       u.system_id, u.parent_id, u.state, u.successor_id, u.closed_on
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::date[]) AS u(organ_id, name, parent_id, system_id, state, successor_id, closed_on)
ON CONFLICT (organ_id) DO UPDATE
SET name = EXCLUDED.name, system_id = EXCLUDED.system_id, parent_id = EXCLUDED.parent_id,
    state = EXCLUDED.state, successor_id = EXCLUDED.successor_id,
    closed_on = EXCLUDED.closed_on, updated_at = now(),
    state_changed_at = CASE WHEN a.state <> EXCLUDED.state THEN now() ELSE a.state_changed_at END;

-- name: directory_search
-- By code or name ($1, NULL for all), by parent ($2), a page ($3 rows from $4).
SELECT organ_id, name, parent_id, system_id, state, successor_id, closed_on,
       count(*) OVER () AS total
FROM agency
WHERE ($1::text IS NULL OR organ_id ILIKE $1 || '%' OR lower(name) LIKE '%' || lower($1) || '%')
  AND ($2::text IS NULL OR parent_id = $2)
ORDER BY organ_id
LIMIT $3 OFFSET $4;

-- name: directory_children
-- The agencies directly under $1 (NULL: the top of the tree) — or, with $2, those whose code
-- or name matches anywhere — for the operators' tree: at most $3.
SELECT a.organ_id, a.name, a.system_id, a.parent_id, a.state, a.successor_id, a.closed_on,
       a.last_seen_at,
       (SELECT count(*) FROM agency c WHERE c.parent_id = a.organ_id) AS children,
       (SELECT count(*) FROM agency_certificate k WHERE k.organ_id = a.organ_id) AS certificates,
       (SELECT max(k.not_after) FROM agency_certificate k WHERE k.organ_id = a.organ_id)
           AS latest_cert_expiry
FROM agency a
WHERE CASE WHEN $2::text IS NULL THEN a.parent_id IS NOT DISTINCT FROM $1
           ELSE a.organ_id ILIKE $2 || '%' OR lower(a.name) LIKE '%' || lower($2) || '%' END
ORDER BY a.organ_id
LIMIT $3;
