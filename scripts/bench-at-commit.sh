#!/usr/bin/env bash
# Runs `npm run bench` on the node of an earlier commit, with today's bench and simulator: the
# commit's tree is exported to a scratch folder, this tree's scripts/bench*, simulator and
# docs/BENCHMARKS.md are laid over it, and the figures it writes come back into docs/BENCHMARKS.md.
# Issue 13's "today" figures are measured this way, so a working tree in the middle of a rebuild
# never leaks into them:
#
#   scripts/bench-at-commit.sh a71375e today scale singles share fairness pump
#
# Arguments: <commit> <generation: today|new> [bench parts or part:variant ...].
set -euo pipefail

COMMIT="${1:?usage: $0 <commit> <today|new> [parts...]}"
GENERATION="${2:?usage: $0 <commit> <today|new> [parts...]}"
shift 2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/bria-bench-$COMMIT-XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

git -C "$ROOT" archive "$COMMIT" | tar -x -C "$SCRATCH"
cp -r "$ROOT/scripts/bench" "$ROOT/scripts/bench.ts" "$SCRATCH/scripts/"
cp "$ROOT/test/simulator/BriaSimulator.ts" "$ROOT/test/simulator/picture.ts" "$SCRATCH/test/simulator/"
cp "$ROOT/docs/BENCHMARKS.md" "$SCRATCH/docs/BENCHMARKS.md"
ln -s "$ROOT/node_modules" "$SCRATCH/node_modules"
[ -f "$ROOT/.npmrc" ] && cp "$ROOT/.npmrc" "$SCRATCH/"

status=0
(cd "$SCRATCH" && BENCH_GENERATION="$GENERATION" BENCH_COMMIT="$(git -C "$ROOT" rev-parse --short "$COMMIT")" npm run bench -- "$@") || status=$?
cp "$SCRATCH/docs/BENCHMARKS.md" "$ROOT/docs/BENCHMARKS.md"
exit "$status"
