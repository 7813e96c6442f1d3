#!/bin/bash
# Run once by the postgres image on the primary's first start: the standby's replication role
# and its pg_hba line.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v pw="$REPLICATION_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
SET synchronous_commit = local;
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
ALTER SYSTEM SET synchronous_standby_names = 'standby';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
