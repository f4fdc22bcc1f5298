#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1 for the Postgres tests and prints the
# SQLAlchemy URL to use. Installs Debian's postgresql package when it is missing.
set -euo pipefail
port="${1:-55432}"
dir="${PGTEST_DIR:-/tmp/helloword-pg-$port}"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
fi
if [ "$(id -u)" = "0" ]; then as_pg=(runuser -u postgres --); else as_pg=(); fi
if [ -f "$dir/postmaster.pid" ]; then
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
fi
rm -rf "$dir"
mkdir -p "$dir"
[ "$(id -u)" = "0" ] && chown postgres:postgres "$dir"
"${as_pg[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
  -o "-p $port -h 127.0.0.1 -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null
"${as_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres helloword_test
echo "postgresql+psycopg://postgres@127.0.0.1:$port/helloword_test"
