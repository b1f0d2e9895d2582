#!/usr/bin/env bash
# Makes sure Debian's Redis and PostgreSQL server binaries are present (n8n's queue mode needs both;
# used by the queue-mode e2e test). Installs the missing ones with apt-get (`apt-get update` only
# when the package lists do not know them yet). Prints two lines on stdout:
#   redis-server=<path>    postgres-bin=<folder with initdb, postgres, pg_ctl>
# Progress goes to stderr. Nothing is started here: scripts/lib/services.ts starts throwaway servers.
set -euo pipefail

say() { printf '[install-services] %s\n' "$*" >&2; }

find_redis() { command -v redis-server 2>/dev/null || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; } || true; }
# The newest Debian PostgreSQL that has a server binary (the client-only package has no `postgres`).
find_postgres() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r dir; do [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ] && echo "$dir"; done | tail -n 1; }

missing=()
[ -n "$(find_redis)" ] || missing+=(redis-server)
[ -n "$(find_postgres)" ] || missing+=(postgresql)

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${missing[*]} and no apt-get: install them yourself"
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else say "need root (or sudo) to apt-get install ${missing[*]}"; exit 1; fi
  fi
  say "installing Debian's ${missing[*]} (first time only, about a minute)…"
  start=$(date +%s)
  install() { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
  # The package lists of a fresh machine may be empty or stale: update only when the install fails.
  if ! install; then
    say "apt-get install failed; updating the package lists and trying again…"
    $SUDO apt-get update -qq >&2
    install
  fi
  say "installed in $(( $(date +%s) - start ))s"
fi

redis="$(find_redis)"
postgres="$(find_postgres)"
[ -n "$redis" ] || { say "redis-server still missing"; exit 1; }
[ -n "$postgres" ] || { say "PostgreSQL server binaries still missing"; exit 1; }
say "$("$redis" --version | cut -d' ' -f1-3); $("$postgres/postgres" --version)"
echo "redis-server=$redis"
echo "postgres-bin=$postgres"
