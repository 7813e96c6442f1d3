-- Group commit (issue 8): a batch's links appended inside one statement. append_events does
-- for each link, in the order given (the caller sorts by chain name, so two batches never
-- wait on each other's chains crosswise), exactly what the event_append query does for one:
-- the upsert on chain_head moves the head (hash = SHA-256(prev || digest)) and locks it until
-- the transaction ends, and the event row gets its seq, prev_hash and hash.
CREATE FUNCTION append_events(
    chains text[], kinds text[], document_ids text[], organ_ids text[], actors text[],
    payloads jsonb[], digests bytea[], genesis bytea, at timestamptz
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(array_length(chains, 1), 0);
    head record;
BEGIN
    FOR i IN 1 .. n LOOP
        INSERT INTO chain_head AS h (chain, seq, prev, hash)
        VALUES (chains[i], 1, genesis, sha256(genesis || digests[i]))
        ON CONFLICT (chain) DO UPDATE
            SET seq = h.seq + 1, prev = h.hash, hash = sha256(h.hash || digests[i])
        RETURNING h.seq, h.prev, h.hash INTO head;
        INSERT INTO event (chain, seq, kind, document_id, organ_id, actor, payload, prev_hash,
                           hash, created_at)
        VALUES (chains[i], head.seq, kinds[i], document_ids[i], organ_ids[i], actors[i],
                payloads[i], head.prev, head.hash, at);
    END LOOP;
    RETURN n;
END $$;
