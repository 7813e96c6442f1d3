#!/usr/bin/env bash
# Make sure the hub can log in to PostgreSQL as it is configured (LIENTHONG_DATABASE_URL, by
# default postgresql://postgres@127.0.0.1:5432/lienthong: password-less, as on a machine with
# trust authentication). A stock Debian PostgreSQL refuses that over TCP (scram-sha-256 in its
# pg_hba.conf). Then:
#   - if this set-up installed PostgreSQL (scripts/services.sh notes it in
#     $LIENTHONG_SETUP_STATE/installed), the hub gets a role of its own with a password: role
#     lienthong, created over the local socket as the postgres OS user (peer authentication),
#     its URL kept in $LIENTHONG_SETUP_STATE/database.env (mode 0600), which make demo and
#     make test read (scripts/with-setup-env.sh). pg_hba.conf is not touched.
#   - otherwise the server is someone else's: nothing is changed, and this says what to set.
# Safe to repeat. Options by environment: LIENTHONG_PG_PORT (5432), LIENTHONG_SETUP_STATE
# (/var/lib/lienthong-setup).
set -u

say() { printf 'database: %s\n' "$*"; }
fail() { printf 'database: %s\n' "$*" >&2; exit 1; }

port=${LIENTHONG_PG_PORT:-5432}
state=${LIENTHONG_SETUP_STATE:-/var/lib/lienthong-setup}
envfile=$state/database.env
if [ -z "${LIENTHONG_DATABASE_URL:-}" ] && [ -r "$envfile" ]; then
  # shellcheck disable=SC1090
  . "$envfile"
fi
url=${LIENTHONG_DATABASE_URL:-postgresql://postgres@127.0.0.1:$port/lienthong}
server=${url%/*}
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

logs_in() { PGCONNECT_TIMEOUT=5 psql "$server/postgres" -XAtqc 'SELECT 1' >/dev/null 2>"$errors"; }

logs_in && exit 0
grep -qiE 'password|authentication' "$errors" \
  || fail "cannot reach PostgreSQL at ${server%%@*}@…: $(head -n1 "$errors")"
if ! grep -qx postgresql "$state/installed" 2>/dev/null; then
  fail "PostgreSQL on port $port refuses the hub's login ($(head -n1 "$errors" | sed 's/.*FATAL: *//')).
This set-up did not install that server, so it changes nothing in it. Either give the hub a role
and say so, e.g.
    sudo -u postgres createuser --pwprompt --createdb lienthong
    export LIENTHONG_DATABASE_URL=postgresql://lienthong:PASSWORD@127.0.0.1:$port/lienthong
    export LIENTHONG_TEST_DATABASE_SERVER=postgresql://lienthong:PASSWORD@127.0.0.1:$port   # make test
or put those two lines (without export) in $envfile."
fi
command -v runuser >/dev/null || fail "runuser (util-linux) is needed to reach PostgreSQL as its postgres user"
password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
runuser -u postgres -- psql -p "$port" -XAtq -v ON_ERROR_STOP=1 -v pw="$password" >/dev/null <<'SQL' \
  || fail "could not create the role lienthong as the postgres user over the local socket"
SELECT 'CREATE ROLE lienthong LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lienthong') \gexec
-- the development and test role of a server this set-up installed: it creates the hub's and the
-- tests' databases and drops them (a production install uses a database owner, not this)
ALTER ROLE lienthong LOGIN SUPERUSER PASSWORD :'pw';
SQL
mkdir -p "$state" && chmod 0700 "$state"
(
  umask 077
  {
    echo "# written by scripts/database-access.sh: the hub's role on the PostgreSQL this set-up installed"
    echo "LIENTHONG_DATABASE_URL=postgresql://lienthong:$password@127.0.0.1:$port/lienthong"
    echo "LIENTHONG_TEST_DATABASE_SERVER=postgresql://lienthong:$password@127.0.0.1:$port"
  } >"$envfile.new" && mv "$envfile.new" "$envfile"
)
. "$envfile"
server=${LIENTHONG_DATABASE_URL%/*}
logs_in || fail "the role lienthong was made but cannot log in: $(head -n1 "$errors")"
say "PostgreSQL (installed by this set-up) refuses password-less logins over TCP, as Debian's default pg_hba.conf says; made the role lienthong with a password, kept in $envfile (0600), which make demo and make test read"
