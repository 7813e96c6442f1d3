-- name: package_by_message
SELECT id, digest, outcome, code, detail, kind, document_id
FROM package WHERE submitter = $1 AND message_id = $2;

-- name: ids_reserve
-- Ids for one submission's package and, if $1, the document it starts (hub/record/store.py).
SELECT nextval(pg_get_serial_sequence('package', 'id')) AS package_id,
       CASE WHEN $1::boolean THEN nextval(pg_get_serial_sequence('document', 'id')) END
           AS document_ref;

-- name: package_body
SELECT body FROM package WHERE id = $1;

-- name: document_lock
SELECT d.id, d.state, d.priority, p.digest, p.message_id
FROM document d JOIN package p ON p.id = d.package_id
WHERE d.sender = $1 AND d.document_id = $2
FOR UPDATE OF d;

-- name: document_set_state
UPDATE document SET state = $2 WHERE id = $1;

-- name: document_version_insert
INSERT INTO document_version (document_ref, package_id, relation) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING;

-- name: document_recipient_add
INSERT INTO document_recipient (document_ref, recipient, added_by) VALUES ($1, $2, $3)
ON CONFLICT (document_ref, recipient) DO UPDATE SET removed_by = NULL, added_by = EXCLUDED.added_by;

-- name: document_recipient_remove
UPDATE document_recipient SET removed_by = $3 WHERE document_ref = $1 AND recipient = $2;

-- name: deliveries_of_package
SELECT d.id, d.recipient, d.kind, d.message_id, d.urgent, d.document_id, d.routing_key, d.state,
       d.addressed_to, p.sender AS package_sender, p.digest AS package_digest
FROM delivery d JOIN package p ON p.id = d.package_id
WHERE d.package_id = $1 ORDER BY d.id;

-- name: deliveries_mark_published
-- $2: when the recipient's first status is due (new and replacement documents only).
UPDATE delivery d SET state = 'published', published_at = now(), attempts = attempts + 1,
    deadline_at = CASE WHEN d.kind = 'edoc'
                        AND (SELECT p.business_doc_type FROM package p WHERE p.id = d.package_id) IN (0, 3)
                       THEN $2::timestamptz END
WHERE d.id = ANY($1::bigint[]) AND d.state = 'pending'
RETURNING d.id, d.recipient, d.kind, d.document_id, d.package_id;

-- name: delivery_mark_dead
UPDATE delivery SET state = 'dead', attempts = attempts + 1, last_error = $2 WHERE id = $1;

-- name: deliveries_stale
-- Deliveries left pending (a hub died between recording and publishing): the sweeper
-- publishes them. SKIP LOCKED lets several hubs sweep without taking the same rows (the
-- deliveries' rows only: the package is read, not locked).
SELECT d.id, d.package_id, d.recipient, d.kind, d.message_id, d.urgent, d.document_id,
       d.routing_key, d.addressed_to, p.sender AS package_sender, p.digest AS package_digest
FROM delivery d JOIN package p ON p.id = d.package_id
WHERE d.state = 'pending' AND d.created_at < now() - make_interval(secs => $1)
ORDER BY d.urgent DESC, d.id
LIMIT $2
FOR UPDATE OF d SKIP LOCKED;

-- name: receipt_of_package
SELECT xml FROM receipt WHERE package_id = $1;

-- name: status_insert
INSERT INTO status_event (document_ref, package_id, author, recipient, status_code,
                          description, staff, stated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: change_request_supersede
UPDATE change_request SET superseded_by = $3
WHERE document_ref = $1 AND recipient = $2 AND answer IS NULL AND superseded_by IS NULL;

-- name: change_request_insert
INSERT INTO change_request (document_ref, recipient, package_id, kind) VALUES ($1, $2, $3, $4);

-- name: change_request_answer
UPDATE change_request SET answer = $2, answered_by = $3, answered_at = now() WHERE id = $1;

-- name: urgent_documents_recent
SELECT sender, document_id FROM document
WHERE priority >= 3 AND created_at > now() - interval '30 days'
ORDER BY created_at DESC LIMIT 100000;

-- name: urgent_documents_since
-- Urgent documents accepted (by any hub) since $1: the followers' incremental look.
SELECT sender, document_id, created_at FROM document
WHERE priority >= 3 AND created_at > $1
ORDER BY created_at;

-- name: agency_seen
-- A system (and, in version 1, the agency that is its own system) was seen submitting.
WITH s AS (UPDATE system SET last_seen_at = now() WHERE system_id = $1)
UPDATE agency SET last_seen_at = now() WHERE organ_id = $1;

-- name: overdue_flag
-- Deliveries past their deadline with no status from the recipient: flagged once, here.
UPDATE delivery d SET overdue_at = now()
FROM package p
WHERE p.id = d.package_id
  AND d.kind = 'edoc' AND d.state = 'published' AND d.overdue_at IS NULL
  AND d.deadline_at < now()
  AND NOT EXISTS (SELECT 1 FROM status_event s
                  WHERE s.document_ref = p.document_ref AND s.recipient = d.recipient)
RETURNING d.id, d.recipient, d.document_id, p.sender, d.published_at, d.deadline_at;

-- name: overdue_count
SELECT count(*) FROM delivery d JOIN package p ON p.id = d.package_id
WHERE d.kind = 'edoc' AND d.overdue_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM status_event s
                  WHERE s.document_ref = p.document_ref AND s.recipient = d.recipient);

-- name: overdue_list
-- Overdue deliveries still without a status; $1 limits them to the agencies a system hosts
-- (as sender or recipient), NULL for operators.
SELECT d.document_id, p.sender, d.recipient, d.published_at, d.deadline_at, d.overdue_at,
       doc.subject, doc.priority
FROM delivery d
JOIN package p ON p.id = d.package_id
JOIN document doc ON doc.id = p.document_ref
WHERE d.kind = 'edoc' AND d.overdue_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM status_event s
                  WHERE s.document_ref = p.document_ref AND s.recipient = d.recipient)
  AND ($1::text IS NULL
       OR EXISTS (SELECT 1 FROM agency a
                  WHERE a.system_id = $1 AND a.organ_id IN (p.sender, d.recipient)))
ORDER BY d.deadline_at
LIMIT $2 OFFSET $3;

-- name: receipt_by_message
SELECT r.xml FROM receipt r JOIN package p ON p.id = r.package_id
WHERE p.submitter = $1 AND p.message_id = $2;

-- name: gateway_take
-- organ_id is the system whose inbox the message came from (version 1: the agency).
INSERT INTO gateway_inbox (organ_id, message_id, kind, document_id, urgent, body, recipient,
                           addressed_to)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (organ_id, message_id) DO NOTHING;

-- name: gateway_list
-- $4: only the messages for one hosted agency (x-recipient), or NULL for all.
-- A claim check (an empty body: a package is never empty) has its package's size.
SELECT g.message_id, g.kind, g.document_id, g.urgent, g.taken_at,
       CASE WHEN octet_length(g.body) = 0
            THEN (SELECT p.size_bytes FROM delivery d JOIN package p ON p.id = d.package_id
                  WHERE d.message_id = g.message_id)
            ELSE octet_length(g.body) END AS size,
       g.recipient, g.addressed_to
FROM gateway_inbox g
WHERE g.organ_id = $1 AND g.acked_at IS NULL AND ($4::text IS NULL OR g.recipient = $4)
ORDER BY g.urgent DESC, g.taken_at, g.message_id
LIMIT $2 OFFSET $3;

-- name: gateway_count
SELECT count(*) FROM gateway_inbox
WHERE organ_id = $1 AND acked_at IS NULL AND ($2::text IS NULL OR recipient = $2);

-- name: gateway_get
-- For a claim check (an empty body), claimed_package names the package whose bytes to serve.
SELECT g.message_id, g.kind, g.document_id, g.urgent, g.body, g.acked_at, g.recipient,
       g.addressed_to, d.package_id AS claimed_package
FROM gateway_inbox g
LEFT JOIN delivery d ON octet_length(g.body) = 0 AND g.kind <> 'receipt'
                    AND d.message_id = g.message_id
WHERE g.organ_id = $1 AND g.message_id = $2;

-- name: gateway_ack
UPDATE gateway_inbox SET acked_at = coalesce(acked_at, now())
WHERE organ_id = $1 AND message_id = $2
RETURNING acked_at;

-- name: document_facts
-- What the change rules decide by (hub/record/rules/facts.py): the document, locked for the
-- transaction, with its current recipients.
SELECT d.id, d.state, d.priority,
       ARRAY(SELECT r.recipient FROM document_recipient r
             WHERE r.document_ref = d.id AND r.removed_by IS NULL
             ORDER BY r.recipient) AS recipients
FROM document d
WHERE d.sender = $1 AND d.document_id = $2
FOR UPDATE OF d;

-- name: status_facts
-- What the status rules decide by, in one lookup under the document's lock ($3: the status's
-- author): the document and its current recipients; whether it was sent to the author; the
-- author's open change request, latest answer and latest processing status.
SELECT d.id, d.state, d.priority,
       ARRAY(SELECT r.recipient FROM document_recipient r
             WHERE r.document_ref = d.id AND r.removed_by IS NULL
             ORDER BY r.recipient) AS recipients,
       EXISTS (SELECT 1 FROM document_recipient r
               WHERE r.document_ref = d.id AND r.recipient = $3) AS sent_to_author,
       (SELECT c.id FROM change_request c
        WHERE c.document_ref = d.id AND c.recipient = $3 AND c.answer IS NULL
          AND c.superseded_by IS NULL
        ORDER BY c.id DESC LIMIT 1) AS open_request,
       (SELECT c.answer FROM change_request c
        WHERE c.document_ref = d.id AND c.recipient = $3 AND c.answer IS NOT NULL
        ORDER BY c.answered_at DESC LIMIT 1) AS last_answer,
       (SELECT s.status_code FROM status_event s
        WHERE s.document_ref = d.id AND s.recipient = $3
          AND s.status_code IN ('01', '02', '03', '04', '05', '06')
        ORDER BY s.id DESC LIMIT 1) AS current_status
FROM document d
WHERE d.sender = $1 AND d.document_id = $2
FOR UPDATE OF d;

-- name: staged_body_create
-- Large bodies are copied here first (hub.record.store.write), then moved into their rows.
CREATE TEMPORARY TABLE IF NOT EXISTS staged_body (package_id bigint PRIMARY KEY, body bytea NOT NULL)
    ON COMMIT DROP;

-- name: staged_body_move
UPDATE package p SET body = s.body FROM pg_temp.staged_body s WHERE p.id = s.package_id;
