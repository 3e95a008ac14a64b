#!/usr/bin/env bash
# `npm run typecheck`: tsc --noEmit for each part, each with only the ambient types it runs with (see the
# tsconfig.<part>.json files). Checks every part even when one fails, then fails if any did.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLW_ROOT"
status=0
for part in node webviews browser-tests; do
  log "type-checking tsconfig.$part.json"
  npx tsc --noEmit -p "tsconfig.$part.json" || status=1
done
exit $status
