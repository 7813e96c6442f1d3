-- The same-day rule (Nghị định 30/2020): each delivered document has a deadline for the
-- recipient's first status; a delivery past it without any status is overdue, flagged once.

ALTER TABLE delivery ADD COLUMN deadline_at timestamptz;
ALTER TABLE delivery ADD COLUMN overdue_at timestamptz;
CREATE INDEX delivery_awaiting_status ON delivery (deadline_at)
    WHERE kind = 'edoc' AND state = 'published' AND deadline_at IS NOT NULL;

-- The HTTP gateway's inbox: messages taken off an agency's RabbitMQ inbox on its behalf, kept
-- until the agency acknowledges them.
CREATE TABLE gateway_inbox (
    organ_id     text NOT NULL REFERENCES agency (organ_id),
    message_id   text NOT NULL,
    kind         text NOT NULL,
    document_id  text,
    urgent       boolean NOT NULL DEFAULT false,
    body         bytea NOT NULL,
    taken_at     timestamptz NOT NULL DEFAULT now(),
    acked_at     timestamptz,
    PRIMARY KEY (organ_id, message_id)
);
CREATE INDEX gateway_inbox_open ON gateway_inbox (organ_id, urgent DESC, taken_at) WHERE acked_at IS NULL;

-- A new revoke, update or take-back supersedes the request still open for that recipient, so
-- a 15/16 always answers the latest change.
ALTER TABLE change_request ADD COLUMN superseded_by bigint REFERENCES package (id);
DROP INDEX change_request_open;
CREATE INDEX change_request_open ON change_request (document_ref, recipient)
    WHERE answer IS NULL AND superseded_by IS NULL;
