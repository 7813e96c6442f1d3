-- name: package_by_message
SELECT id, digest, outcome, code, detail, kind, document_id
FROM package WHERE submitter = $1 AND message_id = $2;

-- name: package_insert
INSERT INTO package (submitter, message_id, channel, kind, digest, size_bytes, body,
                     document_id, sender, business_doc_type, priority, status_code,
                     outcome, code, detail, signer, received_at, recipients, received_lane)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
RETURNING id;

-- name: package_set_document
UPDATE package SET document_ref = $2 WHERE id = $1;

-- name: package_body
SELECT body FROM package WHERE id = $1;

-- name: document_insert
INSERT INTO document (sender, document_id, package_id, priority, subject)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (sender, document_id) DO NOTHING
RETURNING id;

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

-- name: document_recipients_current
SELECT recipient FROM document_recipient WHERE document_ref = $1 AND removed_by IS NULL
ORDER BY recipient;

-- name: document_recipient_add
INSERT INTO document_recipient (document_ref, recipient, added_by) VALUES ($1, $2, $3)
ON CONFLICT (document_ref, recipient) DO UPDATE SET removed_by = NULL, added_by = EXCLUDED.added_by;

-- name: document_recipient_remove
UPDATE document_recipient SET removed_by = $3 WHERE document_ref = $1 AND recipient = $2;

-- name: document_was_sent_to
SELECT EXISTS (SELECT 1 FROM document_recipient WHERE document_ref = $1 AND recipient = $2);

-- name: delivery_insert
INSERT INTO delivery (package_id, recipient, kind, message_id, urgent, document_id, routing_key)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (package_id, recipient, kind) DO NOTHING
RETURNING id;

-- name: deliveries_of_package
SELECT id, recipient, kind, message_id, urgent, document_id, routing_key, state
FROM delivery WHERE package_id = $1 ORDER BY id;

-- name: deliveries_mark_published
UPDATE delivery SET state = 'published', published_at = now(), attempts = attempts + 1
WHERE id = ANY($1::bigint[]) AND state = 'pending'
RETURNING id, recipient, kind, document_id, package_id;

-- name: delivery_mark_dead
UPDATE delivery SET state = 'dead', attempts = attempts + 1, last_error = $2 WHERE id = $1;

-- name: delivery_note_failure
UPDATE delivery SET attempts = attempts + 1, last_error = $2 WHERE id = $1;

-- name: deliveries_stale
-- Deliveries left pending (a hub died between recording and publishing): the sweeper
-- publishes them. SKIP LOCKED lets several hubs sweep without taking the same rows.
SELECT d.id, d.package_id, d.recipient, d.kind, d.message_id, d.urgent, d.document_id,
       d.routing_key
FROM delivery d
WHERE d.state = 'pending' AND d.created_at < now() - make_interval(secs => $1)
ORDER BY d.urgent DESC, d.id
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- name: receipt_insert
INSERT INTO receipt (package_id, xml) VALUES ($1, $2);

-- name: receipt_of_package
SELECT xml FROM receipt WHERE package_id = $1;

-- name: status_current
-- The last processing status (01-06) of a (document, recipient) pair.
SELECT status_code FROM status_event
WHERE document_ref = $1 AND recipient = $2 AND status_code IN ('01', '02', '03', '04', '05', '06')
ORDER BY id DESC LIMIT 1;

-- name: status_insert
INSERT INTO status_event (document_ref, package_id, author, recipient, status_code,
                          description, staff, stated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: change_request_insert
INSERT INTO change_request (document_ref, recipient, package_id, kind) VALUES ($1, $2, $3, $4);

-- name: change_request_open
SELECT id, kind FROM change_request
WHERE document_ref = $1 AND recipient = $2 AND answer IS NULL
ORDER BY id DESC LIMIT 1
FOR UPDATE;

-- name: change_request_last_answer
SELECT answer FROM change_request
WHERE document_ref = $1 AND recipient = $2 AND answer IS NOT NULL
ORDER BY answered_at DESC LIMIT 1;

-- name: change_request_answer
UPDATE change_request SET answer = $2, answered_by = $3, answered_at = now() WHERE id = $1;

-- name: urgent_documents_recent
SELECT document_id FROM document WHERE priority >= 3 AND created_at > now() - interval '30 days';

-- name: registry_agencies
SELECT organ_id, state FROM agency;

-- name: registry_certificates
SELECT fingerprint, organ_id, ca_fingerprint, serial, not_before, not_after FROM agency_certificate;

-- name: registry_trusted
SELECT fingerprint, pem FROM trusted_ca;

-- name: registry_revoked
SELECT ca_fingerprint, serial FROM revoked_certificate;

-- name: agency_seen
UPDATE agency SET last_seen_at = now() WHERE organ_id = $1;

-- name: package_set_plan
UPDATE package SET detail = $2, recipients = $3 WHERE id = $1;

-- name: package_digest
SELECT digest FROM package WHERE id = $1;
