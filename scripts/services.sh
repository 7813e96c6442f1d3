#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ (with its management plugin) are running on this machine.
# Safe to repeat. Says clearly what is missing when a service is not installed; installs them
# with apt-get when run as root (noting what it installed in $LIENTHONG_SETUP_STATE/installed),
# and makes sure the hub can log in to PostgreSQL (scripts/database-access.sh).
set -u

say() { printf 'services: %s\n' "$*"; }
fail() { printf 'services: %s\n' "$*" >&2; exit 1; }

state=${LIENTHONG_SETUP_STATE:-/var/lib/lienthong-setup}
missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${LIENTHONG_NO_APT:-}" = "" ]; then
    say "installing ${missing[*]} with apt-get (set LIENTHONG_NO_APT=1 to refuse)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
      || fail "could not install ${missing[*]}; install them yourself: apt-get install ${missing[*]}"
    # what this set-up installed it may configure (scripts/database-access.sh); nothing else
    mkdir -p "$state" && chmod 0700 "$state" && printf '%s\n' "${missing[@]}" >>"$state/installed"
  else
    fail "missing ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}), then run this again"
  fi
fi

# PostgreSQL
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start \
    || fail "PostgreSQL did not start; see /var/log/postgresql/"
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || fail "PostgreSQL is not answering on 127.0.0.1:5432"
fi

# RabbitMQ
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  say "starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  rabbitmqctl -q await_startup >/dev/null 2>&1 || fail "RabbitMQ did not start; see /var/log/rabbitmq/"
fi
if ! rabbitmq-plugins -q is_enabled rabbitmq_management >/dev/null 2>&1; then
  say "enabling rabbitmq_management"
  rabbitmq-plugins -q enable rabbitmq_management >/dev/null || fail "could not enable rabbitmq_management"
fi
management_up() {
  python3 - <<'PY' 2>/dev/null
import base64, urllib.request
request = urllib.request.Request("http://127.0.0.1:15672/api/overview")
request.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
urllib.request.urlopen(request, timeout=2).read()
PY
}
up=""
for _ in $(seq 1 60); do
  management_up && { up=1; break; }
  sleep 1
done
[ -n "$up" ] || fail "RabbitMQ management API is not answering on 127.0.0.1:15672"

# PostgreSQL: can the hub log in as configured? (Debian's default pg_hba.conf says no.)
bash "$(dirname "$0")/database-access.sh"
