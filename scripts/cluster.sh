#!/usr/bin/env bash
# A local cluster for lienthong's drills (issue 17): three RabbitMQ nodes joined in one cluster
# (quorum queues replicated on all three) and a PostgreSQL primary with a synchronous streaming
# standby — the Debian packages' own binaries, on ports of their own. The services of
# ../shared/services.md (RabbitMQ on 5672, PostgreSQL 15/main on 5432) are left alone.
#
#   scripts/cluster.sh up       bring it up (idempotent); prints the settings to use
#   scripts/cluster.sh status   what runs
#   scripts/cluster.sh down     stop and remove everything it made
#   scripts/cluster.sh env      the settings (LIENTHONG_AMQP_URL with three nodes, a multi-host
#                               LIENTHONG_DATABASE_URL with target_session_attrs=read-write)
#
# Ports: AMQP 5681-5683, Erlang distribution 25681-25683, management 15681-15683; PostgreSQL
# primary 5441, standby 5442. State under $LIENTHONG_CLUSTER_DIR (/var/tmp/lienthong-cluster).
# Needs root (it runs the nodes and makes the PostgreSQL clusters as Debian's tools do).
set -u

base=${LIENTHONG_CLUSTER_DIR:-/var/tmp/lienthong-cluster}
pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
nodes=(1 2 3)
say() { printf 'cluster: %s\n' "$*"; }
fail() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

node() { echo "lt$1@localhost"; }
amqp_port() { echo $((5680 + $1)); }

# rabbitmqctl and the nodes share an Erlang cookie through HOME (the package's own rabbitmqctl,
# not Debian's wrapper, which runs it as the rabbitmq user with the machine's cookie)
rabbit_sbin=$(ls -d /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin 2>/dev/null | sort -V | tail -n1)
ctl() { HOME="$base/rabbit" "$rabbit_sbin/rabbitmqctl" -q -n "$(node "$1")" "${@:2}"; }

port_taken() { ss -Htln "sport = :$1" | grep -q .; }

# a live process, not a zombie: a killed node whose parent is an init that reaps late still
# answers kill -0 (seen in CI, where `up` then waited a minute for a node it never started)
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

rabbit_env() {
  local i=$1 dir="$base/rabbit/n$1"
  echo HOME="$base/rabbit" RABBITMQ_NODENAME="$(node "$i")" RABBITMQ_NODE_PORT="$(amqp_port "$i")" \
    RABBITMQ_DIST_PORT=$((25680 + i)) RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/pid" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
}

rabbit_up() {
  [ -n "$rabbit_sbin" ] || fail "RabbitMQ is not installed (apt-get install rabbitmq-server)"
  mkdir -p "$base/rabbit" && chmod 0700 "$base/rabbit"
  if [ ! -f "$base/rabbit/.erlang.cookie" ]; then
    (umask 077; od -An -N20 -tx1 /dev/urandom | tr -d ' \n' >"$base/rabbit/.erlang.cookie")
    chmod 0400 "$base/rabbit/.erlang.cookie"
  fi
  for i in "${nodes[@]}"; do
    # running (or still booting): its pid file names a live process
    pid_file="$base/rabbit/n$i/pid"
    if [ -s "$pid_file" ] && alive "$(cat "$pid_file")"; then continue; fi
    for port in "$(amqp_port "$i")" $((25680 + i)) $((15680 + i)); do
      port_taken "$port" && fail "port $port is taken: stop what uses it (ss -ltnp 'sport = :$port')"
    done
    local dir="$base/rabbit/n$i"
    mkdir -p "$dir/mnesia" "$dir/log"
    printf 'management.tcp.port = %s\nmanagement.tcp.ip = 127.0.0.1\nloopback_users = none\n' \
      $((15680 + i)) >"$dir/rabbitmq.conf"
    echo '[rabbitmq_management].' >"$dir/enabled_plugins"
    say "starting RabbitMQ node $(node "$i") on $(amqp_port "$i")"
    env $(rabbit_env "$i") "$rabbit_sbin/rabbitmq-server" -detached >/dev/null 2>&1 \
      || fail "node $(node "$i") did not start; see $dir/log"
  done
  for i in "${nodes[@]}"; do
    # await_startup fails at once while the node is not yet reachable: try for a minute
    for _ in $(seq 1 60); do
      ctl "$i" await_startup >/dev/null 2>&1 && continue 2
      sleep 1
    done
    fail "node $(node "$i") did not come up; see $base/rabbit/n$i/log"
  done
  for i in 2 3; do
    if ctl "$i" cluster_status 2>/dev/null | grep -q "$(node 1)"; then continue; fi
    say "joining $(node "$i") to $(node 1)"
    { ctl "$i" stop_app && ctl "$i" reset && ctl "$i" join_cluster "$(node 1)" && ctl "$i" start_app; } \
      >"$base/rabbit/n$i/join.log" 2>&1 || fail "$(node "$i") could not join $(node 1): see $base/rabbit/n$i/join.log"
  done
}

pg_up() {
  [ -n "$pg_version" ] || fail "PostgreSQL is not installed (apt-get install postgresql)"
  local password_file="$base/pg/password"
  mkdir -p "$base/pg" && chmod 0700 "$base/pg"
  [ -f "$password_file" ] || (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$password_file")
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx lt_primary; then
    port_taken 5441 && fail "port 5441 is taken"
    say "making PostgreSQL $pg_version/lt_primary on 5441"
    pg_createcluster "$pg_version" lt_primary -p 5441 >/dev/null || fail "pg_createcluster lt_primary failed"
    pg_conftool "$pg_version" lt_primary set synchronous_standby_names '*'
    pg_conftool "$pg_version" lt_primary set wal_level replica
  fi
  pg_ctlcluster "$pg_version" lt_primary start 2>/dev/null
  # synchronous_commit local: with no standby yet, a synchronous commit would wait for ever
  runuser -u postgres -- psql -p 5441 -Xq -v ON_ERROR_STOP=1 -v pw="$(cat "$password_file")" \
    <<'SQL' >/dev/null || fail "could not make the role lienthong on lt_primary"
SET synchronous_commit = local;
SELECT 'CREATE ROLE lienthong LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lienthong') \gexec
ALTER ROLE lienthong PASSWORD :'pw';
SQL
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx lt_standby; then
    port_taken 5442 && fail "port 5442 is taken"
    say "making the synchronous standby $pg_version/lt_standby on 5442 (pg_basebackup)"
    pg_createcluster "$pg_version" lt_standby -p 5442 >/dev/null || fail "pg_createcluster lt_standby failed"
    local data
    data=$(pg_conftool -s "$pg_version" lt_standby show data_directory)
    rm -rf "${data:?}"/*
    runuser -u postgres -- pg_basebackup -p 5441 -D "$data" -R -X stream -c fast \
      || fail "pg_basebackup from lt_primary failed"
  fi
  pg_ctlcluster "$pg_version" lt_standby start 2>/dev/null
  for _ in $(seq 1 30); do
    state=$(runuser -u postgres -- psql -p 5441 -XAtc "SELECT sync_state FROM pg_stat_replication" 2>/dev/null)
    [ "$state" = "sync" ] && return 0
    sleep 1
  done
  fail "the standby is not streaming synchronously (pg_stat_replication on 5441 says '${state:-nothing}')"
}

print_env() {
  local password urls=()
  password=$(cat "$base/pg/password" 2>/dev/null) || fail "the cluster is not up (scripts/cluster.sh up)"
  for i in "${nodes[@]}"; do urls+=("amqp://guest:guest@127.0.0.1:$(amqp_port "$i")/"); done
  local IFS=,
  echo "LIENTHONG_AMQP_URL=${urls[*]}"
  echo "LIENTHONG_AMQP_MANAGEMENT_URL=http://127.0.0.1:15681/api"
  echo "LIENTHONG_DATABASE_URL=postgresql://lienthong:$password@127.0.0.1:5441,127.0.0.1:5442/lienthong?target_session_attrs=read-write"
}

status() {
  for i in "${nodes[@]}"; do
    if ctl "$i" status >/dev/null 2>&1; then echo "rabbitmq $(node "$i"): running"; else echo "rabbitmq $(node "$i"): stopped"; fi
  done
  ctl 1 cluster_status 2>/dev/null | grep -A5 'Running Nodes' | grep -o '[a-z0-9]*@localhost' | sed 's/^/cluster member: /'
  pg_lsclusters | grep -E 'lt_primary|lt_standby' || echo "postgresql: none"
  runuser -u postgres -- psql -p 5441 -XAtc "SELECT 'replication: ' || application_name || ' ' || state || ' ' || sync_state FROM pg_stat_replication" 2>/dev/null || true
}

down() {
  for i in "${nodes[@]}"; do
    ctl "$i" stop >/dev/null 2>&1 && say "stopped $(node "$i")"
  done
  for name in lt_standby lt_primary; do
    if pg_lsclusters -h | awk '{print $2}' | grep -qx "$name"; then
      pg_dropcluster --stop "$pg_version" "$name" && say "removed PostgreSQL $pg_version/$name"
    fi
  done
  rm -rf "$base"
}

[ "$(id -u)" = 0 ] || fail "run as root: it starts RabbitMQ nodes and makes PostgreSQL clusters"
case "${1:-}" in
  up) rabbit_up && pg_up && say "up" && print_env ;;
  env) print_env ;;
  status) status ;;
  down) down ;;
  *) echo "usage: scripts/cluster.sh up|status|env|down" >&2; exit 2 ;;
esac
