-- Connected systems and the national directory (contract, version 2).
--
-- A system is what connects: one broker user, one pair of inboxes, one gateway token, one
-- national-SDK secret, a state, and the agencies it hosts. Every agency registered before this
-- migration becomes its own system (system id = OrganId), keeping its token and state, so every
-- version-1 name and behaviour holds. The directory adds each agency's parent and, for an
-- identifier change (QĐ 09/2025/QĐ-TTg), its successor and the date it closed.
--
-- Running hubs follow the registry incrementally: every change of an agency, system,
-- certificate, trusted CA or CRL appends a row to registry_change (and notifies), and a hub
-- reads only the rows after the last one it applied.

CREATE TABLE system (
    system_id        text PRIMARY KEY CHECK (system_id ~ '^[0-9A-Za-z._-]{1,64}$'),
    name             text NOT NULL,
    state            text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended')),
    http_token_hash  bytea NOT NULL UNIQUE,       -- sha256 of the gateway bearer token
    vxp_secret       text NOT NULL,               -- the national SDK's HMAC key (it must be known)
    unsigned_policy  text NOT NULL DEFAULT 'refuse' CHECK (unsigned_policy IN ('refuse', 'accept')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz
);

INSERT INTO system (system_id, name, state, http_token_hash, vxp_secret, created_at,
                    state_changed_at, last_seen_at)
SELECT organ_id, name, state, http_token_hash, encode(gen_random_uuid()::text::bytea, 'hex'),
       created_at, state_changed_at, last_seen_at
FROM agency;

ALTER TABLE agency ADD COLUMN system_id text REFERENCES system (system_id);
UPDATE agency SET system_id = organ_id;
ALTER TABLE agency ALTER COLUMN system_id SET NOT NULL;
ALTER TABLE agency ALTER COLUMN http_token_hash DROP NOT NULL;  -- tokens belong to systems now
ALTER TABLE agency ADD COLUMN parent_id text;
ALTER TABLE agency ADD COLUMN successor_id text REFERENCES agency (organ_id);
ALTER TABLE agency ADD COLUMN closed_on date;
ALTER TABLE agency ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE agency ADD CONSTRAINT agency_closure CHECK ((successor_id IS NULL) = (closed_on IS NULL));
CREATE INDEX agency_by_system ON agency (system_id);
CREATE INDEX agency_by_parent ON agency (parent_id);
CREATE INDEX agency_by_name ON agency (lower(name) text_pattern_ops);

-- Deliveries to a closed OrganId go to its successor; the id the package used is kept.
ALTER TABLE delivery ADD COLUMN addressed_to text;

-- What changed in the registry, in order; hubs apply the rows after the last one they saw.
-- A hub reads the rows of transactions at or after the oldest one still running when it last
-- looked (txid ≥ that horizon): a transaction that commits late is never missed, and reading a
-- change twice is harmless (the current row is read again).
CREATE TABLE registry_change (
    id    bigserial PRIMARY KEY,
    txid  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    kind  text NOT NULL CHECK (kind IN ('agency', 'system', 'certificate', 'ca', 'crl')),
    key   text NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registry_change_by_txid ON registry_change (txid);

CREATE FUNCTION registry_change_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    data jsonb;
    row_key text;
BEGIN
    IF TG_OP = 'UPDATE'
       AND to_jsonb(NEW) - 'last_seen_at' = to_jsonb(OLD) - 'last_seen_at' THEN
        RETURN NULL;  -- only "last seen" moved: nothing a hub decides by
    END IF;
    IF TG_OP = 'DELETE' THEN data := to_jsonb(OLD); ELSE data := to_jsonb(NEW); END IF;
    row_key := data ->> TG_ARGV[1];                  -- a bytea comes as '\x…' hex
    IF left(row_key, 2) = '\x' THEN row_key := substr(row_key, 3); END IF;
    INSERT INTO registry_change (kind, key) VALUES (TG_ARGV[0], row_key);
    RETURN NULL;
END $$;

-- The statement-level NOTIFY of version 1 stays (one per statement, whatever its size); these
-- row-level triggers record what changed.
CREATE TRIGGER agency_change_log AFTER INSERT OR UPDATE OR DELETE ON agency
    FOR EACH ROW EXECUTE FUNCTION registry_change_log('agency', 'organ_id');
CREATE TRIGGER system_change_log AFTER INSERT OR UPDATE OR DELETE ON system
    FOR EACH ROW EXECUTE FUNCTION registry_change_log('system', 'system_id');
CREATE TRIGGER certificate_change_log AFTER INSERT OR UPDATE OR DELETE ON agency_certificate
    FOR EACH ROW EXECUTE FUNCTION registry_change_log('certificate', 'fingerprint');
CREATE TRIGGER ca_change_log AFTER INSERT OR UPDATE OR DELETE ON trusted_ca
    FOR EACH ROW EXECUTE FUNCTION registry_change_log('ca', 'fingerprint');
CREATE TRIGGER crl_change_log AFTER INSERT ON crl
    FOR EACH ROW EXECUTE FUNCTION registry_change_log('crl', 'ca_fingerprint');
CREATE TRIGGER system_changed AFTER INSERT OR UPDATE OR DELETE ON system
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER crl_changed AFTER INSERT ON crl
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();

-- The gateway's table of taken messages belongs to a system (its column keeps the name
-- organ_id: in version 1 the system is the agency) and says which hosted agency each is for.
ALTER TABLE gateway_inbox DROP CONSTRAINT gateway_inbox_organ_id_fkey;
ALTER TABLE gateway_inbox ADD CONSTRAINT gateway_inbox_system_fkey
    FOREIGN KEY (organ_id) REFERENCES system (system_id);
ALTER TABLE gateway_inbox ADD COLUMN recipient text;
ALTER TABLE gateway_inbox ADD COLUMN addressed_to text;
