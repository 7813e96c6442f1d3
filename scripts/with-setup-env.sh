#!/usr/bin/env bash
# Run a command with what the set-up wrote for this machine ($LIENTHONG_SETUP_STATE/database.env,
# see scripts/database-access.sh), unless the environment already says otherwise.
state=${LIENTHONG_SETUP_STATE:-/var/lib/lienthong-setup}
if [ -z "${LIENTHONG_DATABASE_URL:-}" ] && [ -r "$state/database.env" ]; then
  set -a
  # shellcheck disable=SC1091
  . "$state/database.env"
  set +a
fi
exec "$@"
