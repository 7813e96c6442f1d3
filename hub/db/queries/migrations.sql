-- name: database_exists
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1);

-- name: migration_table_create
CREATE TABLE IF NOT EXISTS schema_migration (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: migration_versions
SELECT version FROM schema_migration ORDER BY version;

-- name: migration_record
INSERT INTO schema_migration (version, name) VALUES ($1, $2);

-- name: migration_current
SELECT max(version) FROM schema_migration;
