#!/usr/bin/env bash
# `npm run screenshots`: runs the end-to-end UI test, which saves its screenshots under out/screenshots/, and
# copies them into media/screenshots/ (the README's images). Kept apart from `npm test` so tests never
# rewrite tracked files; run it when the UI changed and commit the new images on purpose.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLW_ROOT"
bash scripts/ensure-deps.sh
node esbuild.mjs
bash scripts/ensure-docker.sh
export MLW_TEST_BASE_IMAGE="${MLW_TEST_BASE_IMAGE:-$(bash scripts/base-image.sh)}"
export MLW_CODE_SERVER="${MLW_CODE_SERVER:-$(bash scripts/code-server.sh)}"
export MLW_SCREENSHOTS_DIR="$MLW_ROOT/out/screenshots"
rm -rf "$MLW_SCREENSHOTS_DIR"
npx mocha --no-config --timeout 600000 out/test/e2e/workbench.e2e.js out/test/e2e/themes.e2e.js
mkdir -p media/screenshots
for f in runs-view.png run-details.png run-details-light.png run-details-dark.png compare-light.png compare-dark.png; do
  [ -f "$MLW_SCREENSHOTS_DIR/$f" ] || die "the e2e test did not save $f"
  cp "$MLW_SCREENSHOTS_DIR/$f" media/screenshots/
done
log "updated media/screenshots/ (review with git diff --stat media/, then commit)"
