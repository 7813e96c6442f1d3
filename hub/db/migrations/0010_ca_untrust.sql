-- Untrusting a CA (issue 19): it stays on record — certificates registered under it and the
-- audit of what happened while it was trusted refer to it — but anchors nothing new: the
-- registry cache leaves it out (packages signed under it are CERT_UNTRUSTED), and so do the
-- expiry figures. `lienthong ca trust` trusts it again.
ALTER TABLE trusted_ca ADD COLUMN untrusted_at timestamptz;
