-- Appending a link in one statement (issue 8): the chain head keeps its previous hash too, so
-- an upsert on chain_head can hand the event row both prev_hash and hash.
ALTER TABLE chain_head ADD COLUMN prev bytea;
