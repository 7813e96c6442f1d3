-- lienthong schema, version 1: the registry (agencies, certificates, trust) and the records
-- (packages, deliveries, statuses, receipts, event log) for the whole pipeline.
-- Later migrations extend these tables; they never rewrite history.

CREATE TABLE agency (
    organ_id         text PRIMARY KEY CHECK (organ_id ~ '^[0-9A-Za-z._-]{1,35}$'),
    name             text NOT NULL,
    legacy_id        boolean NOT NULL DEFAULT false,
    state            text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended')),
    http_token_hash  bytea NOT NULL,            -- sha256 of the gateway bearer token
    created_at       timestamptz NOT NULL DEFAULT now(),
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz
);
CREATE UNIQUE INDEX agency_http_token_hash ON agency (http_token_hash);

CREATE TABLE trusted_ca (
    fingerprint  bytea PRIMARY KEY,              -- sha256 of the DER certificate
    subject      text NOT NULL,
    not_before   timestamptz NOT NULL,
    not_after    timestamptz NOT NULL,
    pem          text NOT NULL,
    source       text NOT NULL,                  -- 'development' | 'operator'
    crl_url      text,                           -- distribution point to refresh the CRL from
    added_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crl (
    id             bigserial PRIMARY KEY,
    ca_fingerprint bytea NOT NULL REFERENCES trusted_ca (fingerprint),
    this_update    timestamptz NOT NULL,
    next_update    timestamptz,
    der            bytea NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crl_by_ca ON crl (ca_fingerprint, this_update DESC);

CREATE TABLE revoked_certificate (
    ca_fingerprint bytea NOT NULL REFERENCES trusted_ca (fingerprint),
    serial         numeric NOT NULL,
    revoked_at     timestamptz NOT NULL,
    crl_id         bigint NOT NULL REFERENCES crl (id),
    PRIMARY KEY (ca_fingerprint, serial)
);

-- Registered signing certificates: exact certificates, not names. Old ones stay on record
-- so old documents can still be verified.
CREATE TABLE agency_certificate (
    fingerprint    bytea PRIMARY KEY,            -- sha256 of the DER certificate
    organ_id       text NOT NULL REFERENCES agency (organ_id),
    ca_fingerprint bytea NOT NULL REFERENCES trusted_ca (fingerprint),
    subject        text NOT NULL,
    serial         numeric NOT NULL,
    not_before     timestamptz NOT NULL,
    not_after      timestamptz NOT NULL,
    key_type       text NOT NULL,                -- 'RSA-2048', 'EC-P-256' …
    pem            text NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agency_certificate_by_agency ON agency_certificate (organ_id);

-- Every submission the hub took in, accepted or rejected, exactly once per
-- (submitter, message_id). The bytes are kept as submitted (the evidence).
CREATE TABLE package (
    id                bigserial PRIMARY KEY,
    submitter         text NOT NULL,             -- broker user_id or gateway agency
    message_id        text NOT NULL,
    channel           text NOT NULL CHECK (channel IN ('amqp', 'http', 'bridge')),
    kind              text NOT NULL CHECK (kind IN ('edoc', 'status')),
    digest            bytea NOT NULL,            -- sha256 of the submitted bytes
    size_bytes        bigint NOT NULL,
    body              bytea,                     -- NULL when kept in body_location
    body_location     text,
    document_id       text,                      -- MessageHeader/DocumentId or ResponseFor/DocumentId
    sender            text,                      -- From/OrganId as the package claims
    business_doc_type smallint,                  -- 0 new, 1 revoke, 2 update, 3 replace
    priority          smallint,
    status_code       text,                      -- for status packages
    outcome           text NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    code              text,                      -- contract code when rejected
    detail            text NOT NULL,
    signer            bytea REFERENCES agency_certificate (fingerprint),
    received_at       timestamptz NOT NULL,
    decided_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (submitter, message_id)
);
CREATE INDEX package_by_document ON package (document_id, sender);
CREATE INDEX package_by_time ON package (decided_at);
CREATE INDEX package_by_code ON package (code, decided_at) WHERE code IS NOT NULL;

-- A document as its sender knows it: (sender, document_id) of a new package (type 0),
-- with every later version (update, replace) and its revocation linked to it.
CREATE TABLE document (
    id           bigserial PRIMARY KEY,
    sender       text NOT NULL REFERENCES agency (organ_id),
    document_id  text NOT NULL,
    package_id   bigint NOT NULL REFERENCES package (id),
    priority     smallint NOT NULL DEFAULT 0,
    subject      text,
    state        text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked', 'replaced')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sender, document_id)
);

CREATE TABLE document_version (
    document_ref bigint NOT NULL REFERENCES document (id),
    package_id   bigint NOT NULL REFERENCES package (id),
    relation     text NOT NULL CHECK (relation IN ('original', 'revoke', 'update', 'replace', 'replaced-by')),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_ref, package_id)
);

-- One delivery per (accepted package, recipient inbox). The message_id the recipient sees
-- is fixed here, so a redelivery after a crash carries the same id.
CREATE TABLE delivery (
    id            bigserial PRIMARY KEY,
    package_id    bigint NOT NULL REFERENCES package (id),
    recipient     text NOT NULL REFERENCES agency (organ_id),
    kind          text NOT NULL CHECK (kind IN ('edoc', 'status', 'receipt')),
    message_id    text NOT NULL UNIQUE,
    urgent        boolean NOT NULL DEFAULT false,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'published', 'dead')),
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    UNIQUE (package_id, recipient, kind)
);
CREATE INDEX delivery_pending ON delivery (urgent DESC, id) WHERE state = 'pending';
CREATE INDEX delivery_by_recipient ON delivery (recipient, created_at);

-- Processing statuses per (document, recipient): 01 … 06, 13, 15, 16.
CREATE TABLE status_event (
    id           bigserial PRIMARY KEY,
    document_ref bigint NOT NULL REFERENCES document (id),
    package_id   bigint NOT NULL REFERENCES package (id),
    author       text NOT NULL REFERENCES agency (organ_id),
    recipient    text NOT NULL REFERENCES agency (organ_id),  -- the (document, recipient) pair
    status_code  text NOT NULL,
    description  text,
    staff        text,
    stated_at    text,                           -- MessageHeader/Timestamp as written
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_event_by_pair ON status_event (document_ref, recipient, id);

-- The hub's signed receipts, one per submission.
CREATE TABLE receipt (
    package_id   bigint PRIMARY KEY REFERENCES package (id),
    xml          bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE operator (
    name        text PRIMARY KEY,
    role        text NOT NULL CHECK (role IN ('viewer', 'admin')),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- Append-only event log, one hash chain per chain key (an agency, or 'hub'), so that several
-- hub processes append concurrently; seals commit all chain heads into one signed record.
CREATE TABLE event (
    id          bigserial PRIMARY KEY,
    chain       text NOT NULL,
    seq         bigint NOT NULL,
    kind        text NOT NULL,                   -- submitted, accepted, rejected, delivered, status, …
    document_id text,
    organ_id    text,
    actor       text,                            -- agency, operator or 'hub'
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash   bytea,
    hash        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (chain, seq)
);
CREATE INDEX event_by_document ON event (document_id) WHERE document_id IS NOT NULL;

CREATE TABLE seal (
    id          bigserial PRIMARY KEY,
    heads       jsonb NOT NULL,                  -- {chain: [seq, hash-hex]}
    root        bytea NOT NULL,
    signature   bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event
    FOR EACH ROW EXECUTE FUNCTION event_is_append_only();

-- Agencies added, suspended or resumed while the hub runs: hubs LISTEN on this channel and
-- also re-read the registry every few seconds, whichever comes first.
CREATE FUNCTION registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lienthong_registry', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER agency_changed AFTER INSERT OR UPDATE OR DELETE ON agency
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER agency_certificate_changed AFTER INSERT OR UPDATE OR DELETE ON agency_certificate
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER trusted_ca_changed AFTER INSERT OR UPDATE OR DELETE ON trusted_ca
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
