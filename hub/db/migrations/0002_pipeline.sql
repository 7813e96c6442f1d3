-- The document pipeline: receipts go to whoever published (a broker user that may not be a
-- registered agency), deliveries keep the routing they were published with, packages keep the
-- recipients they were accepted for, and links between documents are recorded.

ALTER TABLE delivery DROP CONSTRAINT delivery_recipient_fkey;
ALTER TABLE delivery ADD COLUMN document_id text;
ALTER TABLE delivery ADD COLUMN routing_key text;

ALTER TABLE package ADD COLUMN recipients text[] NOT NULL DEFAULT '{}';
ALTER TABLE package ADD COLUMN document_ref bigint REFERENCES document (id);
ALTER TABLE package ADD COLUMN received_lane text;  -- 'urgent' or 'ordinary' inside the hub

-- Who a document was delivered to, as it stands now (updates add and remove recipients).
CREATE TABLE document_recipient (
    document_ref bigint NOT NULL REFERENCES document (id),
    recipient    text NOT NULL REFERENCES agency (organ_id),
    added_by     bigint NOT NULL REFERENCES package (id),
    removed_by   bigint REFERENCES package (id),
    PRIMARY KEY (document_ref, recipient)
);

CREATE INDEX delivery_by_package ON delivery (package_id);
CREATE INDEX document_urgent ON document (created_at) WHERE priority >= 3;

-- A revoke, update or take-back (13) asks each recipient for an answer: 15 agree, 16 refuse.
CREATE TABLE change_request (
    id           bigserial PRIMARY KEY,
    document_ref bigint NOT NULL REFERENCES document (id),
    recipient    text NOT NULL REFERENCES agency (organ_id),
    package_id   bigint NOT NULL REFERENCES package (id),
    kind         text NOT NULL CHECK (kind IN ('revoke', 'update', 'take-back')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    answer       text CHECK (answer IN ('15', '16')),
    answered_by  bigint REFERENCES package (id),
    answered_at  timestamptz
);
CREATE INDEX change_request_open ON change_request (document_ref, recipient) WHERE answer IS NULL;
