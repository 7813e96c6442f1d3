-- The record stage's one write path (hub/record/store.py): ids first (a lookup for a batch,
-- ids_reserve for one), then one statement that writes every row of one outcome or of a
-- batch's, each row set passed as arrays and opened with unnest.

-- name: events_append_all
-- A batch of links in one statement (hub/audit/events.py builds the arrays, sorted by chain).
SELECT append_events($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
                     $7::bytea[], $8::bytea, $9::timestamptz);

-- name: batch_lookup
-- Before a batch is written in one statement: which of its (submitter, message_id) and new
-- (sender, document_id) exist already, and ids for its packages and documents ($5, $6 of them).
SELECT 'package' AS what, p.submitter AS a, p.message_id AS b, p.id
FROM package p
JOIN unnest($1::text[], $2::text[]) AS u(submitter, message_id)
  ON p.submitter = u.submitter AND p.message_id = u.message_id
UNION ALL
SELECT 'document', d.sender, d.document_id, d.id
FROM document d
JOIN unnest($3::text[], $4::text[]) AS u(sender, document_id)
  ON d.sender = u.sender AND d.document_id = u.document_id
UNION ALL
SELECT 'package_id', NULL, NULL, nextval(pg_get_serial_sequence('package', 'id'))
FROM generate_series(1, $5)
UNION ALL
SELECT 'document_id', NULL, NULL, nextval(pg_get_serial_sequence('document', 'id'))
FROM generate_series(1, $6);

-- name: outcomes_insert
-- Decided submissions in one statement (an implicit transaction when none is open): packages
-- (ids from batch_lookup or ids_reserve), new documents with their first versions and
-- recipients, receipts, deliveries and the event links. A (submitter, message_id) or
-- DocumentId that another hub took meanwhile fails it whole (unique violation); it is then
-- tried again and finds it. The rows returned are the deliveries.
WITH pk AS (
    INSERT INTO package (id, submitter, message_id, channel, kind, digest, size_bytes, body,
                         document_id, sender, business_doc_type, priority, status_code,
                         outcome, code, detail, signer, received_at, recipients, received_lane,
                         document_ref)
    SELECT u.id, u.submitter, u.message_id, u.channel, u.kind, u.digest, u.size_bytes, u.body,
           u.document_id, u.sender, u.business_doc_type, u.priority, u.status_code,
           u.outcome, u.code, u.detail, u.signer, u.received_at,
           string_to_array(u.recipients, ','), u.received_lane, u.document_ref
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[],
                $7::bigint[], $8::bytea[], $9::text[], $10::text[], $11::smallint[],
                $12::smallint[], $13::text[], $14::text[], $15::text[], $16::text[],
                $17::bytea[], $18::timestamptz[], $19::text[], $20::text[], $21::bigint[])
         AS u(id, submitter, message_id, channel, kind, digest, size_bytes, body, document_id,
              sender, business_doc_type, priority, status_code, outcome, code, detail, signer,
              received_at, recipients, received_lane, document_ref)
), doc AS (
    INSERT INTO document (id, sender, document_id, package_id, priority, subject)
    SELECT * FROM unnest($22::bigint[], $23::text[], $24::text[], $25::bigint[],
                         $26::smallint[], $27::text[])
), version AS (
    INSERT INTO document_version (document_ref, package_id, relation)
    SELECT u.document_ref, u.package_id, 'original'
    FROM unnest($22::bigint[], $25::bigint[]) AS u(document_ref, package_id)
), recipient AS (
    INSERT INTO document_recipient (document_ref, recipient, added_by)
    SELECT DISTINCT * FROM unnest($28::bigint[], $29::text[], $30::bigint[])
), kept AS (
    INSERT INTO receipt (package_id, xml) SELECT * FROM unnest($31::bigint[], $32::bytea[])
), planned AS (
    INSERT INTO delivery (package_id, recipient, kind, message_id, urgent, document_id,
                          routing_key, addressed_to)
    SELECT * FROM unnest($33::bigint[], $34::text[], $35::text[], $36::text[], $37::boolean[],
                         $38::text[], $39::text[], $40::text[])
    ON CONFLICT (package_id, recipient, kind) DO NOTHING
    RETURNING id, package_id, recipient, kind
), linked AS (
    SELECT append_events($41::text[], $42::text[], $43::text[], $44::text[], $45::text[],
                         $46::jsonb[], $47::bytea[], $48::bytea, $49::timestamptz) AS links
)
SELECT planned.id, planned.package_id, planned.recipient, planned.kind
FROM linked LEFT JOIN planned ON true;

-- name: deliveries_mark_published_linked
-- deliveries_mark_published and the 'delivered' links in one statement (the group commit's
-- marking when no delivery is dead). $3..$11: append_events' arguments.
WITH marked AS (
    UPDATE delivery d SET state = 'published', published_at = now(), attempts = attempts + 1,
        deadline_at = CASE WHEN d.kind = 'edoc'
                            AND (SELECT p.business_doc_type FROM package p
                                 WHERE p.id = d.package_id) IN (0, 3)
                           THEN $2::timestamptz END
    WHERE d.id = ANY($1::bigint[]) AND d.state = 'pending'
    RETURNING d.id
), linked AS (
    SELECT append_events($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::jsonb[], $9::bytea[], $10::bytea, $11::timestamptz) AS links
)
SELECT (SELECT count(*) FROM marked) AS marked, links FROM linked;
