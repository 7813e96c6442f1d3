-- name: timeline_documents
-- Documents a DocumentId may mean: a document's own id, or the id of a package linked to one
-- (an update or a revocation carries its own DocumentId).
SELECT d.id, d.sender, d.document_id, d.state, d.priority, d.subject, d.created_at
FROM document d
WHERE d.document_id = $1
   OR d.id IN (SELECT p.document_ref FROM package p
               WHERE p.document_id = $1 AND p.document_ref IS NOT NULL)
ORDER BY d.created_at;

-- name: timeline_visible
-- Whether system $3 hosts the document's sender ($2) or one of its recipients, ever.
SELECT EXISTS (SELECT 1 FROM agency WHERE organ_id = $2 AND system_id = $3)
    OR EXISTS (SELECT 1 FROM document_recipient r JOIN agency a ON a.organ_id = r.recipient
               WHERE r.document_ref = $1 AND a.system_id = $3);

-- name: timeline_packages
-- Every submission about the document: accepted ones linked to it, and rejected ones that
-- named it and were submitted by, or claimed to be from, its sender or one of its recipients
-- (a refused package's sender is only its claim: hub/timeline.py shows such a rejection only
-- to the agency that submitted it and to operators).
SELECT p.id, p.kind, p.message_id, p.submitter, p.sender, p.document_id, p.business_doc_type,
       p.status_code, p.outcome, p.code, p.detail, p.decided_at, p.recipients, p.channel,
       p.signer IS NOT NULL AS signed
FROM package p
WHERE p.document_ref = $1
   OR (p.outcome = 'rejected' AND p.document_id = $2
       AND (p.submitter = $3 OR p.sender = $3
            OR p.submitter IN (SELECT recipient FROM document_recipient WHERE document_ref = $1)
            OR p.sender IN (SELECT recipient FROM document_recipient WHERE document_ref = $1)))
ORDER BY p.decided_at, p.id;

-- name: timeline_deliveries
SELECT d.package_id, d.recipient, d.kind, d.state, d.published_at, d.deadline_at, d.overdue_at,
       d.addressed_to
FROM delivery d JOIN package p ON p.id = d.package_id
WHERE p.document_ref = $1 AND d.kind <> 'receipt'
ORDER BY d.published_at NULLS LAST, d.id;

-- name: timeline_statuses
SELECT s.package_id, s.author, s.recipient, s.status_code, s.description, s.staff,
       s.stated_at, s.recorded_at
FROM status_event s WHERE s.document_ref = $1 ORDER BY s.id;

-- name: timeline_recipients
SELECT r.recipient, r.removed_by IS NULL AS current
FROM document_recipient r WHERE r.document_ref = $1 ORDER BY r.recipient;

-- name: timeline_changes
SELECT c.recipient, c.kind, c.requested_at, c.answer, c.answered_at, c.superseded_by
FROM change_request c WHERE c.document_ref = $1 ORDER BY c.id;

-- name: timeline_versions
SELECT v.relation, v.recorded_at, p.message_id, p.document_id, p.business_doc_type
FROM document_version v JOIN package p ON p.id = v.package_id
WHERE v.document_ref = $1 ORDER BY v.recorded_at, v.package_id;
