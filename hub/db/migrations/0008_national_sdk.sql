-- The national SDK's endpoint (contract, version 2: national SDK compatibility).
--
-- A system's national-SDK secret is an HMAC key: the hub must be able to compute with it, so it
-- cannot be stored as a one-way hash like the gateway token. It is stored sealed (AES-256-GCM
-- under a key kept in LIENTHONG_HOME, bound to the system id), so the database alone does not
-- reveal it. Secrets stored in the clear by migration 0007 are sealed by the hub the first time
-- it starts (or `lienthong migrate` runs) with this migration applied: the SQL cannot reach the
-- key. A rotated secret's predecessor stays valid until vxp_previous_until.

ALTER TABLE system ALTER COLUMN vxp_secret DROP NOT NULL;
ALTER TABLE system ADD COLUMN vxp_sealed bytea;
ALTER TABLE system ADD COLUMN vxp_previous_sealed bytea;
ALTER TABLE system ADD COLUMN vxp_previous_until timestamptz;
ALTER TABLE system ADD CONSTRAINT system_vxp_secret CHECK (vxp_secret IS NOT NULL OR vxp_sealed IS NOT NULL);

-- Signed headers already seen (the replay guard): kept a little longer than the timestamp window.
CREATE TABLE vxp_seen (
    digest   bytea PRIMARY KEY,          -- sha256 of system id and the signed header
    seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vxp_seen_by_time ON vxp_seen (seen_at);

-- Submissions through the national SDK's endpoint.
ALTER TABLE package DROP CONSTRAINT package_channel_check;
ALTER TABLE package ADD CONSTRAINT package_channel_check
    CHECK (channel IN ('amqp', 'http', 'bridge', 'vxp'));

-- What a national-SDK system said of a message it took (updateStatus): 'processing' or 'fail'
-- keep it listed; 'done' acknowledges it (acked_at).
ALTER TABLE gateway_inbox ADD COLUMN vxp_state text CHECK (vxp_state IN ('processing', 'fail'));
ALTER TABLE gateway_inbox ADD COLUMN vxp_state_at timestamptz;
