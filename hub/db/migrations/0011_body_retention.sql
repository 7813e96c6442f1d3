-- Retention of package bodies (issue 19): an old package's bytes may be archived to files or
-- dropped; its digest, receipt and chain links stay, so what was sent remains provable by
-- anyone holding the bytes (the archive, or the sender's and recipients' own copies).
ALTER TABLE package ADD COLUMN body_dropped_at timestamptz;
ALTER TABLE package ADD COLUMN body_archive text;
