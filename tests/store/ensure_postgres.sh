#!/bin/sh
# The store tests (tests/store/) start a throw-away PostgreSQL cluster with initdb + pg_ctl.
# `make test` runs this first: when the server binaries are missing and we are root on Debian or
# Ubuntu (as CI is, on a clean clone), install Debian's `postgresql` package; otherwise say how.
set -eu

have_pg() {
    if [ -n "${DEELWIJZER_PG_BINDIR:-}" ] && [ -x "$DEELWIJZER_PG_BINDIR/pg_ctl" ] && [ -x "$DEELWIJZER_PG_BINDIR/initdb" ]; then
        return 0
    fi
    for d in ${DEELWIJZER_PG_SEARCH:-/usr/lib/postgresql/*/bin}; do
        if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
            return 0
        fi
    done
    [ -z "${DEELWIJZER_PG_SEARCH:-}" ] && command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1
}

if have_pg; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL server binaries (pg_ctl, initdb) not found: installing Debian's postgresql package for the store tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    unset DEELWIJZER_PG_SEARCH
    if have_pg; then
        echo "PostgreSQL installed: $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"
        exit 0
    fi
fi
cat >&2 <<'MSG'
deelwijzer: the store tests need PostgreSQL's server binaries (pg_ctl, initdb), and they are not installed.
  Debian/Ubuntu: sudo apt-get install postgresql   (make test does this itself when run as root)
  macOS:         brew install postgresql@16
  or set DEELWIJZER_PG_BINDIR to the directory that holds pg_ctl and initdb.
MSG
exit 1
