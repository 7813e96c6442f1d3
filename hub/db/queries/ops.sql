-- The operators' API and dashboard (hub/http/ops.py).

-- name: ops_throughput
-- Per minute over the last $1 minutes: submissions decided, accepted, rejected.
SELECT date_trunc('minute', decided_at) AS minute,
       count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
       count(*) FILTER (WHERE outcome = 'rejected') AS rejected
FROM package WHERE decided_at > now() - make_interval(mins => $1)
GROUP BY 1 ORDER BY 1;

-- name: ops_latency
-- Per minute: end-to-end latency (received by the hub → published into the inbox), in ms.
SELECT date_trunc('minute', d.published_at) AS minute,
       count(*) AS deliveries,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.published_at - p.received_at)) * 1000 AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM d.published_at - p.received_at)) * 1000 AS p95_ms
FROM delivery d JOIN package p ON p.id = d.package_id
WHERE d.kind <> 'receipt' AND d.published_at > now() - make_interval(mins => $1)
GROUP BY 1 ORDER BY 1;

-- name: ops_rejections
-- Rejections by code and hour over the last $1 hours.
SELECT date_trunc('hour', decided_at) AS hour, code, count(*) AS n
FROM package WHERE outcome = 'rejected' AND decided_at > now() - make_interval(hours => $1)
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: ops_overdue_count
SELECT count(*) FROM delivery d JOIN package p ON p.id = d.package_id
WHERE d.kind = 'edoc' AND d.overdue_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM status_event s
                  WHERE s.document_ref = p.document_ref AND s.recipient = d.recipient);

-- name: ops_pending_per_agency
-- Deliveries accepted but not yet in the inbox, per recipient.
SELECT recipient, count(*) AS pending FROM delivery WHERE state = 'pending' GROUP BY recipient;

-- name: ops_search
-- Documents by id, sender, recipient, latest status, rejection code, time window, overdue.
SELECT doc.document_id, doc.sender, doc.subject, doc.priority, doc.state, doc.created_at,
       p.outcome, p.code,
       (SELECT array_agg(r.recipient ORDER BY r.recipient) FROM document_recipient r
        WHERE r.document_ref = doc.id AND r.removed_by IS NULL) AS recipients,
       (SELECT s.status_code FROM status_event s WHERE s.document_ref = doc.id
        ORDER BY s.id DESC LIMIT 1) AS last_status,
       EXISTS (SELECT 1 FROM delivery d JOIN package dp ON dp.id = d.package_id
               WHERE dp.document_ref = doc.id AND d.overdue_at IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM status_event s
                                 WHERE s.document_ref = doc.id AND s.recipient = d.recipient))
         AS overdue
FROM document doc JOIN package p ON p.id = doc.package_id
WHERE ($1::text IS NULL OR doc.document_id ILIKE '%' || $1 || '%')
  AND ($2::text IS NULL OR doc.sender = $2)
  AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM document_recipient r
                                   WHERE r.document_ref = doc.id AND r.recipient = $3))
  AND ($4::text IS NULL OR (SELECT s.status_code FROM status_event s WHERE s.document_ref = doc.id
                            ORDER BY s.id DESC LIMIT 1) = $4)
  AND ($5::timestamptz IS NULL OR doc.created_at >= $5)
  AND ($6::timestamptz IS NULL OR doc.created_at < $6)
ORDER BY doc.created_at DESC, doc.id DESC
LIMIT $7 OFFSET $8;

-- name: ops_search_rejected
-- Rejected submissions (they make no document) by code, sender, id and time window.
SELECT p.document_id, p.sender, p.submitter, p.kind, p.code, p.detail, p.decided_at,
       p.message_id
FROM package p
WHERE p.outcome = 'rejected'
  AND ($1::text IS NULL OR p.code = $1)
  AND ($2::text IS NULL OR p.sender = $2 OR p.submitter = $2)
  AND ($3::text IS NULL OR p.document_id ILIKE '%' || $3 || '%')
  AND ($4::timestamptz IS NULL OR p.decided_at >= $4)
  AND ($5::timestamptz IS NULL OR p.decided_at < $5)
ORDER BY p.decided_at DESC, p.id DESC
LIMIT $6 OFFSET $7;

-- name: ops_agency
SELECT a.organ_id, a.name, a.state, a.legacy_id, a.created_at, a.last_seen_at,
       a.state_changed_at, a.system_id, a.parent_id, a.successor_id, a.closed_on,
       (SELECT count(*) FROM agency c WHERE c.parent_id = a.organ_id) AS children
FROM agency a WHERE a.organ_id = $1;

-- name: ops_agency_certificates
SELECT fingerprint, subject, serial, not_before, not_after, key_type FROM agency_certificate
WHERE organ_id = $1 ORDER BY not_after DESC;

-- name: ops_actions
-- What operators did (the hub chain's operator events), newest first.
SELECT seq, kind, actor, organ_id, document_id, payload::text AS payload, created_at
FROM event WHERE chain = 'hub' AND kind LIKE 'admin.%'
ORDER BY seq DESC LIMIT $1;

-- name: ops_unanswered_per_agency
-- Per recipient: the oldest document delivered to it (last 30 days) that it has not answered
-- with any status yet — how long its văn thư has left a dispatch unacknowledged.
SELECT d.recipient, min(d.published_at) AS oldest, count(*) AS unanswered
FROM delivery d JOIN package p ON p.id = d.package_id
WHERE d.kind = 'edoc' AND d.state = 'published' AND d.deadline_at IS NOT NULL
  AND d.published_at > now() - interval '30 days'
  AND NOT EXISTS (SELECT 1 FROM status_event s
                  WHERE s.document_ref = p.document_ref AND s.recipient = d.recipient)
GROUP BY d.recipient;
