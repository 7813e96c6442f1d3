-- The national SDK's endpoint (hub/http/vxp.py). The inbox is the gateway's table: messages
-- taken off the system's RabbitMQ inboxes, kept until the system says "done".

-- name: vxp_seen_insert
-- The replay guard: a signed header is taken once (nothing returned: seen before).
INSERT INTO vxp_seen (digest) VALUES ($1) ON CONFLICT DO NOTHING RETURNING digest;

-- name: vxp_seen_prune
DELETE FROM vxp_seen WHERE seen_at < now() - interval '15 minutes';

-- name: vxp_inbox_list
-- Waiting messages of the kinds asked for ($2), urgent first, with who sent them.
SELECT g.message_id, g.kind, g.document_id, g.urgent, g.taken_at, g.recipient, g.vxp_state,
       g.vxp_state_at, p.sender, p.decided_at
FROM gateway_inbox g
LEFT JOIN delivery d ON d.message_id = g.message_id
LEFT JOIN package p ON p.id = d.package_id
WHERE g.organ_id = $1 AND g.acked_at IS NULL AND g.kind = ANY($2::text[])
ORDER BY g.urgent DESC, g.taken_at, g.message_id
LIMIT $3;

-- name: vxp_inbox_count
SELECT count(*) FROM gateway_inbox
WHERE organ_id = $1 AND acked_at IS NULL AND kind = ANY($2::text[]);

-- name: vxp_inbox_state
-- updateStatus processing / fail: the message stays listed, with that state.
UPDATE gateway_inbox SET vxp_state = $3, vxp_state_at = now()
WHERE organ_id = $1 AND message_id = $2 AND acked_at IS NULL
RETURNING message_id;

-- name: vxp_inbox_known
SELECT acked_at FROM gateway_inbox WHERE organ_id = $1 AND message_id = $2;

-- name: vxp_sent_list
-- The system's recent submissions (getSentEdocList): each accepted package once per recipient
-- with where that recipient stands; a rejected one once, without recipient. $2: one package
-- (its message id, the DocId sendEdoc returned) or NULL for all; $3 the most rows.
SELECT p.message_id AS sender_doc_id, p.kind, p.sender, p.outcome, p.code, p.detail,
       p.decided_at, doc.subject, d.recipient, d.message_id AS receiver_doc_id, d.state,
       d.published_at,
       (SELECT s.status_code FROM status_event s
        WHERE s.document_ref = p.document_ref AND s.recipient = d.recipient
        ORDER BY s.id DESC LIMIT 1) AS status_code,
       (SELECT min(s.recorded_at) FROM status_event s
        WHERE s.document_ref = p.document_ref AND s.recipient = d.recipient) AS received_at,
       p.document_id
FROM package p
LEFT JOIN document doc ON doc.id = p.document_ref
LEFT JOIN delivery d ON d.package_id = p.id AND d.kind = p.kind
WHERE p.submitter = $1 AND p.kind = 'edoc' AND ($2::text IS NULL OR p.message_id = $2)
  AND p.decided_at > now() - interval '30 days'
ORDER BY p.decided_at DESC, p.id DESC, d.recipient
LIMIT $3;

-- name: vxp_agencies
-- The directory as the SDK's agency calls list it; $1: only the agencies under this parent.
SELECT a.organ_id, a.name, a.parent_id, a.system_id, a.state, a.successor_id, a.closed_on,
       a.updated_at, o.old_code
FROM agency a
LEFT JOIN (SELECT successor_id, min(organ_id) AS old_code FROM agency
           WHERE successor_id IS NOT NULL GROUP BY successor_id) o
       ON o.successor_id = a.organ_id
WHERE ($1::text IS NULL OR a.parent_id = $1)
ORDER BY a.organ_id;
