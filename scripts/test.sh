#!/usr/bin/env bash
# `npm test`: every test. Installs what it needs (npm packages, a Docker engine, the offline base image,
# code-server and Chromium), type-checks, builds, then runs the unit suite (plain mocha, real Docker and
# git), the browser suite (webview bundles in Chromium under their CSP), the VS Code suite (mocha inside a
# real VS Code 1.100.3 served by code-server), an end-to-end test that clicks through the workbench, and one
# that packages the extension (.vsix), installs it into code-server and completes a run through it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLW_ROOT"
bash scripts/ensure-deps.sh
status=0
# Type errors and lint findings fail the run at the end but do not stop the suites (esbuild does not need
# types to build): a stray `let` or a type reached across layers should not hide the test results.
bash scripts/typecheck.sh || status=1
log "linting (eslint: typescript-eslint rules, layering of core, CLI and webviews)"
npx eslint . || status=1
node esbuild.mjs
bash scripts/ensure-docker.sh
# Tests never pull: they use the offline image unless told otherwise.
export MLW_TEST_BASE_IMAGE="${MLW_TEST_BASE_IMAGE:-$(bash scripts/base-image.sh)}"
export MLW_CODE_SERVER="${MLW_CODE_SERVER:-$(bash scripts/code-server.sh)}"
log "base image for tests: $MLW_TEST_BASE_IMAGE"

echo; echo "== Unit tests (plain mocha, real Docker and git) =="
npx mocha || status=1
echo; echo "== Browser tests (webview bundles in Chromium, strict CSP, no network) =="
npx mocha --no-config --timeout 60000 'out/test/browser/**/*.test.js' || status=1
echo; echo "== VS Code tests (mocha inside VS Code 1.100.3 via code-server) =="
node out/test/harness/codeServerTests.js || status=1
echo; echo "== VS Code tests in Restricted Mode (the folder opened untrusted) =="
MLW_TEST_UNTRUSTED=1 MLW_TEST_GREP='Restricted Mode' node out/test/harness/codeServerTests.js || status=1
echo; echo "== End-to-end UI tests (clicks in the real workbench, code-server + Chromium) =="
npx mocha --no-config --timeout 180000 out/test/e2e/workbench.e2e.js out/test/e2e/runsView.e2e.js out/test/e2e/runWithArguments.e2e.js out/test/e2e/reloadWindow.e2e.js out/test/e2e/themes.e2e.js || status=1
echo; echo "== Packaged extension (npm run package, the .vsix installed into code-server, a run through it) =="
npx mocha --no-config --timeout 300000 out/test/e2e/vsixInstall.e2e.js || status=1
# Packaging left production bundles in dist/; put the development build (with source maps) back.
node esbuild.mjs
exit $status
