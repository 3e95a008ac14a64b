#!/usr/bin/env bash
# Runs `npm ci` when node_modules is missing or was installed from a different package-lock.json.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLW_ROOT"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.mlw-lock-sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
log "installing npm dependencies (npm ci)"
npm ci --no-audit --no-fund >&2
echo "$want" > "$stamp"
