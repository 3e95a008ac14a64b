#!/usr/bin/env bash
# `npm run bench [-- NAME…]`: runs the benchmarks in bench/ (all, or the named ones) on the real Docker engine
# and prints their figures. They are measurements, not pass/fail tests; copy the figures into bench/RESULTS.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLW_ROOT"
bash scripts/ensure-docker.sh
export MLW_TEST_BASE_IMAGE="${MLW_TEST_BASE_IMAGE:-$(bash scripts/base-image.sh)}"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in out/bench/*.js; do names+=("$(basename "$f" .js)"); done
fi
for n in "${names[@]}"; do
  echo "== bench/$n =="
  node "out/bench/$n.js"
done
