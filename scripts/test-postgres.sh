#!/usr/bin/env bash
# A throwaway PostgreSQL for footfall's chain-database tests: its own data directory in a
# temporary directory, listening on 127.0.0.1 only, on a free port.
#
#   eval "$(scripts/test-postgres.sh start)"   # prints the export lines the tests read
#   swift test --skip-build --filter Chain
#   scripts/test-postgres.sh stop              # uses FOOTFALL_TEST_POSTGRES_DIR
#
# PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` user (made by
# the Debian package). The superuser `postgres` logs in over TCP with a random password kept
# in a 0600 file owned by the user running the tests (footfall refuses any other).
# Exports: FOOTFALL_TEST_DATABASE_URL, FOOTFALL_TEST_DATABASE_PASSWORD_FILE,
# FOOTFALL_TEST_POSTGRES_DIR (and FOOTFALL_TEST_POSTGRES_BIN, for tests that restart it).
set -euo pipefail

find_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    done
    echo "error: no PostgreSQL server found (apt-get install postgresql)" >&2
    return 1
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local bin dir port password
    bin=$(find_bin)
    dir=$(mktemp -d /tmp/footfall-postgres.XXXXXX)
    chmod 755 "$dir"
    mkdir "$dir/data" "$dir/socket"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir/data" "$dir/socket"; fi
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    # initdb reads the superuser's password from a file the postgres user can read.
    printf '%s\n' "$password" > "$dir/data.pw"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir/data.pw"; fi
    chmod 600 "$dir/data.pw"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --pwfile="$dir/data.pw" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/data.pw"
    (umask 077; printf '%s\n' "$password" > "$dir/password")
    port=$(free_port)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/socket -c fsync=off -c max_connections=200" \
        start >/dev/null
    echo "export FOOTFALL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/postgres"
    echo "export FOOTFALL_TEST_DATABASE_PASSWORD_FILE=$dir/password"
    echo "export FOOTFALL_TEST_POSTGRES_DIR=$dir"
    echo "export FOOTFALL_TEST_POSTGRES_BIN=$bin"
}

stop() {
    local dir=${FOOTFALL_TEST_POSTGRES_DIR:-${1:-}}
    if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
        echo "error: FOOTFALL_TEST_POSTGRES_DIR does not name a server started by this script" >&2
        exit 1
    fi
    local bin
    bin=$(find_bin)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
