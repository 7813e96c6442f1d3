-- Retiring an agency certificate (issue 19): it stays on record — old documents were signed
-- with it and their evidence names it — but it no longer signs anything new (the registry
-- cache leaves it out) and leaves the expiry figures and alerts.
ALTER TABLE agency_certificate ADD COLUMN retired_at timestamptz;
