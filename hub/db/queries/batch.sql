-- Recording many submissions in one transaction (hub/batch_records.py): one statement per
-- table for the whole batch, each row set passed as arrays and opened with unnest.

-- name: packages_by_messages
-- Which of these (submitter, message_id) were recorded already (their replay is sent again).
SELECT p.id, p.submitter, p.message_id, p.digest, p.outcome, p.code, p.detail, p.kind,
       p.document_id
FROM package p
JOIN unnest($1::text[], $2::text[]) AS u(submitter, message_id)
  ON p.submitter = u.submitter AND p.message_id = u.message_id;

-- name: documents_existing
-- Which of these (sender, document_id) exist already (those go the one-by-one way).
SELECT d.sender, d.document_id
FROM document d
JOIN unnest($1::text[], $2::text[]) AS u(sender, document_id)
  ON d.sender = u.sender AND d.document_id = u.document_id;

-- name: packages_insert
-- The columns of package_insert; $18 holds each row's recipients joined by commas (an OrganId
-- has none: [0-9A-Za-z._-]).
INSERT INTO package (submitter, message_id, channel, kind, digest, size_bytes, body,
                     document_id, sender, business_doc_type, priority, status_code,
                     outcome, code, detail, signer, received_at, recipients, received_lane)
SELECT u.submitter, u.message_id, u.channel, u.kind, u.digest, u.size_bytes, u.body,
       u.document_id, u.sender, u.business_doc_type, u.priority, u.status_code,
       u.outcome, u.code, u.detail, u.signer, u.received_at,
       string_to_array(u.recipients, ','), u.received_lane
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bigint[],
            $7::bytea[], $8::text[], $9::text[], $10::smallint[], $11::smallint[], $12::text[],
            $13::text[], $14::text[], $15::text[], $16::bytea[], $17::timestamptz[],
            $18::text[], $19::text[])
     AS u(submitter, message_id, channel, kind, digest, size_bytes, body, document_id, sender,
          business_doc_type, priority, status_code, outcome, code, detail, signer, received_at,
          recipients, received_lane)
RETURNING id, submitter, message_id;

-- name: documents_insert
-- New documents with their first versions and recipients, and each package's document_ref:
-- the batch's form of document_insert + package_set_plan. $6: recipients joined by commas.
WITH u AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::smallint[], $5::text[],
                         $6::text[])
        AS u(sender, document_id, package_id, priority, subject, recipients)
), d AS (
    INSERT INTO document (sender, document_id, package_id, priority, subject)
    SELECT sender, document_id, package_id, priority, subject FROM u
    RETURNING id, package_id
), v AS (
    INSERT INTO document_version (document_ref, package_id, relation)
    SELECT id, package_id, 'original' FROM d
), r AS (
    INSERT INTO document_recipient (document_ref, recipient, added_by)
    SELECT DISTINCT d.id, x.recipient, d.package_id
    FROM d JOIN u ON u.package_id = d.package_id,
         unnest(string_to_array(u.recipients, ',')) AS x(recipient)
), p AS (
    UPDATE package SET document_ref = d.id FROM d WHERE package.id = d.package_id
)
SELECT id, package_id FROM d;

-- name: receipts_insert
INSERT INTO receipt (package_id, xml) SELECT * FROM unnest($1::bigint[], $2::bytea[]);

-- name: deliveries_insert_many
-- Every delivery of every package in the batch (recipients and receipts).
INSERT INTO delivery (package_id, recipient, kind, message_id, urgent, document_id, routing_key)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[],
                     $7::text[])
ON CONFLICT (package_id, recipient, kind) DO NOTHING
RETURNING id, package_id, recipient, kind;
