#!/usr/bin/env bash
# Starts and stops the services the store's heavy tests run against, under the git-ignored
# .cache/services/ of the repository:
#
# - a throwaway PostgreSQL 15 cluster (Debian's /usr/lib/postgresql/15/bin), listening only on
#   127.0.0.1 on a free port, trust authentication, no durability (fsync off): test data only;
# - moto_server, an S3 imitation, on 127.0.0.1 on a free port;
# - Podman's Docker-compatible API (`podman system service`) on a unix socket in
#   .cache/services/podman, for the container executor's tests (when podman is installed:
#   scripts/install-peers.sh installs it).
#
#   eval "$(bash scripts/services.sh start)"   # start (or find running) and export the URLs
#   bash scripts/services.sh status            # exit 0 (and print the exports) if both run
#   bash scripts/services.sh stop              # stop what start started, delete the cluster
#
# `start` prints only `export` lines on stdout (progress goes to stderr): GANTRY_TEST_POSTGRES_URL
# (the `postgres` database of a superuser, where tests create their own databases),
# GANTRY_TEST_S3_ENDPOINT and the GANTRY_TEST_S3_{REGION,ACCESS_KEY_ID,SECRET_ACCESS_KEY} the tests
# sign with, GANTRY_TEST_DOCKER_HOST (unix://<socket>) when Podman runs. It is idempotent: services already running are reused. It installs what is missing:
# `moto[server]` with pip, and PostgreSQL with apt-get when run as root. As root, the cluster
# belongs to the `postgres` user (initdb refuses to run as root). `stop` ends only the processes
# whose pid files it wrote.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
S3_REGION=us-east-1
S3_KEY=test
S3_SECRET=test

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cache/services"
pg_dir="$dir/postgres"
moto_dir="$dir/moto"
podman_dir="$dir/podman"

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a PostgreSQL tool as the cluster's owner: `postgres` when we are root, else ourselves.
as_pg() {
    if is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds for the command in $3... to succeed; $1 names what is awaited.
wait_for() {
    local what="$1" seconds="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
    log "$what is up"
}

pg_running() {
    [ -f "$pg_dir/port" ] && [ -f "$pg_dir/data/PG_VERSION" ] &&
        as_pg "$PG_BIN/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1
}

pg_ready() {
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$pg_dir/port")" -U postgres
}

install_postgres() {
    [ -x "$PG_BIN/initdb" ] && return 0
    is_root || die "PostgreSQL 15 is missing ($PG_BIN); install the postgresql package (as root)"
    log "installing PostgreSQL with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2; }
    [ -x "$PG_BIN/initdb" ] || die "apt-get installed no PostgreSQL 15 at $PG_BIN"
}

start_postgres() {
    if pg_running && pg_ready; then
        log "PostgreSQL already running on port $(cat "$pg_dir/port")"
        return 0
    fi
    install_postgres
    if [ -f "$pg_dir/data/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then
        # Our cluster runs but does not answer where the port file says: restart it.
        log "restarting PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" -D "$pg_dir/data" -m fast -w stop >&2
    fi
    mkdir -p "$pg_dir"
    if is_root; then
        chown postgres:postgres "$pg_dir"
    fi
    if [ ! -f "$pg_dir/data/PG_VERSION" ]; then
        log "creating a PostgreSQL cluster in $pg_dir/data"
        as_pg "$PG_BIN/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
            >"$pg_dir/initdb.log"
    fi
    local port
    port="$(free_port)"
    log "starting PostgreSQL on 127.0.0.1:$port"
    # Test data only: durability is traded for speed. The socket lives in the cluster's folder.
    # The server must not inherit the lock (fd 9), or it would hold it for its lifetime.
    as_pg "$PG_BIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pg_dir \
         -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2 9>&- ||
        { tail -20 "$pg_dir/log" >&2 || true; die "PostgreSQL did not start (log: $pg_dir/log)"; }
    echo "$port" >"$pg_dir/port"
    wait_for "PostgreSQL" 30 pg_ready || die "PostgreSQL does not answer on port $port (log: $pg_dir/log)"
}

stop_postgres() {
    if [ -f "$pg_dir/data/PG_VERSION" ]; then
        if as_pg "$PG_BIN/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then
            log "stopping PostgreSQL"
            as_pg "$PG_BIN/pg_ctl" -D "$pg_dir/data" -m fast -w stop >&2
        fi
    fi
    rm -rf "$pg_dir"
}

# The pid in moto's pid file when that process is alive and is moto_server.
moto_pid() {
    local pid
    [ -f "$moto_dir/pid" ] || return 1
    pid="$(cat "$moto_dir/pid")"
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q moto_server || return 1
    echo "$pid"
}

moto_ready() {
    curl -fsS -o /dev/null "http://127.0.0.1:$(cat "$moto_dir/port")/"
}

start_moto() {
    if moto_pid >/dev/null && [ -f "$moto_dir/port" ] && moto_ready; then
        log "moto_server already running on port $(cat "$moto_dir/port")"
        return 0
    fi
    if ! command -v moto_server >/dev/null; then
        log "installing moto[server] with pip"
        python3 -m pip install --quiet 'moto[server]' >&2
        command -v moto_server >/dev/null || die "pip installed moto but moto_server is not on PATH"
    fi
    mkdir -p "$moto_dir"
    local port
    port="$(free_port)"
    echo "$port" >"$moto_dir/port"
    log "starting moto_server on 127.0.0.1:$port"
    # Its own session: a Ctrl-C meant for the tests does not reach it; `stop` ends it. Without
    # the lock's fd 9.
    setsid moto_server -H 127.0.0.1 -p "$port" >"$moto_dir/log" 2>&1 </dev/null 9>&- &
    echo $! >"$moto_dir/pid"
    wait_for "moto_server" 30 moto_ready ||
        { tail -20 "$moto_dir/log" >&2 || true; die "moto_server does not answer on port $port (log: $moto_dir/log)"; }
}

# Ends a process we started: SIGTERM, then SIGKILL after 5 s.
end_process() {
    local pid="$1"
    kill "$pid"
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

stop_moto() {
    local pid
    if pid="$(moto_pid)"; then
        log "stopping moto_server (pid $pid)"
        end_process "$pid"
    fi
    rm -rf "$moto_dir"
}

# The pid in Podman's pid file when that process is alive and is the API service.
podman_pid() {
    local pid
    [ -f "$podman_dir/pid" ] || return 1
    pid="$(cat "$podman_dir/pid")"
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "system service" || return 1
    echo "$pid"
}

podman_ready() {
    curl -fsS -o /dev/null --unix-socket "$podman_dir/podman.sock" http://d/_ping
}

start_podman() {
    command -v podman >/dev/null || { log "podman is not installed: no container engine for the tests"; return 0; }
    if podman_pid >/dev/null && podman_ready; then
        log "Podman's API already running at $podman_dir/podman.sock"
        return 0
    fi
    mkdir -p "$podman_dir"
    rm -f "$podman_dir/podman.sock"
    log "starting Podman's API at $podman_dir/podman.sock"
    setsid podman system service --time=0 "unix://$podman_dir/podman.sock" >"$podman_dir/log" 2>&1 </dev/null 9>&- &
    echo $! >"$podman_dir/pid"
    wait_for "Podman's API" 30 podman_ready ||
        { tail -20 "$podman_dir/log" >&2 || true; die "Podman's API does not answer (log: $podman_dir/log)"; }
}

stop_podman() {
    local pid
    if pid="$(podman_pid)"; then
        log "stopping Podman's API (pid $pid)"
        end_process "$pid"
    fi
    rm -rf "$podman_dir"
}

print_exports() {
    cat <<EOF
export GANTRY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$(cat "$pg_dir/port")/postgres
export GANTRY_TEST_S3_ENDPOINT=http://127.0.0.1:$(cat "$moto_dir/port")
export GANTRY_TEST_S3_REGION=$S3_REGION
export GANTRY_TEST_S3_ACCESS_KEY_ID=$S3_KEY
export GANTRY_TEST_S3_SECRET_ACCESS_KEY=$S3_SECRET
EOF
    if podman_pid >/dev/null; then
        echo "export GANTRY_TEST_DOCKER_HOST=unix://$podman_dir/podman.sock"
    fi
}

mkdir -p "$dir"
# One start or stop at a time (two test runs starting together share the services).
exec 9>"$dir/lock"
flock 9

case "${1:-}" in
    start)
        start_postgres
        start_moto
        start_podman
        print_exports
        ;;
    status)
        if pg_running && pg_ready && moto_pid >/dev/null && [ -f "$moto_dir/port" ] && moto_ready &&
            { ! command -v podman >/dev/null || { podman_pid >/dev/null && podman_ready; }; }; then
            print_exports
        else
            log "not running"
            exit 1
        fi
        ;;
    stop)
        stop_podman
        stop_moto
        stop_postgres
        ;;
    *)
        die "usage: bash scripts/services.sh start|status|stop"
        ;;
esac
