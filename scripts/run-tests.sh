#!/usr/bin/env bash
# Run the whole test suite: starts a throwaway PostgreSQL server on loopback (when the Debian package
# is installed) so the working-group tests also run against PostgreSQL, then runs pytest on 2 workers.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PGDIR=""
cleanup() {
  if [ -n "$PGDIR" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
}
trap cleanup EXIT
if [ -n "$PGBIN" ] && [ -z "${TRADEPULSE_TEST_PG_URL:-}" ]; then
  PGDIR=$(mktemp -d /tmp/tradepulse-pg.XXXXXX)
  chmod 755 "$PGDIR"
  PGPORT=$(( 20000 + RANDOM % 20000 ))
  if [ "$(id -u)" -eq 0 ]; then RUN=(runuser -u postgres --); chown postgres "$PGDIR"; else RUN=(); fi
  if "${RUN[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust >/dev/null \
     && "${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1" \
          -l "$PGDIR/log" -w start >/dev/null; then
    "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres tradepulse_test
    export TRADEPULSE_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/tradepulse_test"
    echo "PostgreSQL test server on 127.0.0.1:$PGPORT"
  else
    echo "WARNING: could not start PostgreSQL; PostgreSQL tests will be skipped" >&2
    cat "$PGDIR/log" 2>/dev/null >&2 || true
  fi
fi
export PYTHONHASHSEED=0
"$BIN/python" -m pytest -n 2 --dist loadgroup "$@" tests
rc=$?
[ $rc -eq 5 ] && { echo "pytest collected no tests" >&2; rc=1; }
exit $rc
