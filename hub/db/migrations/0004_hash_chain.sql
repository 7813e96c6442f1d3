-- Tamper-evident records (issue 7): every event is a link of a hash chain (hub/audit/chain.py), each
-- chain's head is kept in chain_head (its row lock orders appends to one chain, so no global
-- lock), and seals sign a Merkle root over all heads and chain to each other.

CREATE TABLE chain_head (
    chain   text PRIMARY KEY,
    seq     bigint NOT NULL,
    hash    bytea NOT NULL
);

-- Events written before this migration carry no hash; their chains continue from the genesis
-- hash after them, and `lienthong audit verify` reports them as unchained.
INSERT INTO chain_head (chain, seq, hash)
SELECT chain, max(seq), '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
FROM event GROUP BY chain;

-- No seal was ever written before this migration.
DROP TABLE seal;
CREATE TABLE seal (
    seq         bigint PRIMARY KEY,
    body        bytea NOT NULL,                  -- canonical JSON signed by the hub
    heads       jsonb NOT NULL,                  -- [{chain, seq, hash}], by chain
    signature   bytea NOT NULL,
    certificate bytea NOT NULL,                  -- the hub's certificate (DER) that signed it
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER seal_append_only BEFORE UPDATE OR DELETE ON seal
    FOR EACH ROW EXECUTE FUNCTION event_is_append_only();
