-- Package bodies are kept out of line and uncompressed (STORAGE EXTERNAL), as are the HTTP
-- gateway's inbox copies. An edXML body is mostly base64 of files that are compressed already
-- (PDF, DOCX, signed archives): PostgreSQL's default TOAST compression (pglz) tried each body
-- and kept nothing, and that attempt was 58 % of PostgreSQL's processor time for 200 KB
-- packages (perf, issue 18: 6.0 ms of PostgreSQL per document before, 2.0 ms after). Out of
-- line and uncompressed, a claim check's substring(body FROM x FOR n) also reads only the
-- chunks it returns. Rows written before this keep their form; both read the same.
ALTER TABLE package ALTER COLUMN body SET STORAGE EXTERNAL;
ALTER TABLE gateway_inbox ALTER COLUMN body SET STORAGE EXTERNAL;
