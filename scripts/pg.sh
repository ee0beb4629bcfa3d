#!/usr/bin/env bash
# start: runs a throwaway PostgreSQL cluster on 127.0.0.1 and prints
#        `export HALL_TEST_PG_URL=...` for the store tests.
# stop:  stops it and removes its directory.
set -euo pipefail
DIR=/tmp/command-hall-pg
PORT="${HALL_PG_PORT:-55432}"
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
  start)
    if [ -z "$BIN" ]; then echo "echo 'PostgreSQL not installed' >&2"; exit 1; fi
    if [ -f "$DIR/data/postmaster.pid" ]; then run "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$DIR"; mkdir -p "$DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
    run "$BIN/initdb" -D "$DIR/data" -U hall --auth=trust -E UTF8 >/dev/null
    run "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=on" start >/dev/null
    run "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U hall hall_test >/dev/null
    echo "export HALL_TEST_PG_URL=postgresql+psycopg://hall@127.0.0.1:$PORT/hall_test"
    ;;
  stop)
    if [ -n "$BIN" ] && [ -d "$DIR/data" ]; then run "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true; fi
    rm -rf "$DIR"
    ;;
  *) echo "usage: pg.sh start|stop" >&2; exit 2 ;;
esac
