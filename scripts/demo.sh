#!/usr/bin/env bash
# `npm run demo [-- --no-ui]`: runs the bundled iris experiment end to end on local Docker through the
# `mlw` CLI, prints its run record, then serves the extension in a real VS Code (code-server) opened on
# examples/. Installs what it needs on the way.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLW_ROOT"
NO_UI=false
PORT="${MLW_DEMO_PORT:-8080}"
for arg in "$@"; do
  case "$arg" in
    --no-ui) NO_UI=true ;;
    --port=*) PORT="${arg#--port=}" ;;
    *) die "unknown option $arg (use --no-ui or --port=N)" ;;
  esac
done

bash scripts/ensure-deps.sh
node esbuild.mjs
bash scripts/ensure-docker.sh
# Use python:3.12-slim when the engine already has it; never pull here: offline, build the local image.
if [ -z "${MLW_BASE_IMAGE:-}" ]; then
  if docker image inspect python:3.12-slim >/dev/null 2>&1; then MLW_BASE_IMAGE=python:3.12-slim
  else MLW_BASE_IMAGE=$(bash scripts/base-image.sh); fi
fi
export MLW_BASE_IMAGE
log "base image: $MLW_BASE_IMAGE"

cd examples
echo "== mlw run iris/train.py =="
status=0
../bin/mlw run iris/train.py || status=$?
RUN_ID=$(../bin/mlw runs list --json | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(r[0]?.id??"")')
echo; echo "== mlw runs show $RUN_ID =="
../bin/mlw runs show "$RUN_ID"
[ "$status" = 0 ] || die "the demo run did not complete (exit code $status)"
$NO_UI && exit 0

ENTRY=$(bash "$MLW_ROOT/scripts/code-server.sh")
DATA="$MLW_CACHE_DIR/demo"
mkdir -p "$DATA/user-data/User" "$DATA/extensions"
cat > "$DATA/user-data/User/settings.json" <<JSON
{ "mlw.baseImage": "$MLW_BASE_IMAGE", "extensions.autoCheckUpdates": false, "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off", "workbench.startupEditor": "none" }
JSON
# The extension is served from this checkout (a link in the extensions folder, registered in its
# extensions.json as an install would), so a rebuild (npm run watch) shows up on window reload.
VERSION=$(node -p "require('$MLW_ROOT/package.json').version")
EXT_DIR="$DATA/extensions/ml-workbench.ml-workbench-$VERSION"
ln -sfn "$MLW_ROOT" "$EXT_DIR"
node -e '
  const [dir, version] = process.argv.slice(1);
  const rel = require("path").basename(dir);
  process.stdout.write(JSON.stringify([{ identifier: { id: "ml-workbench.ml-workbench" }, version,
    location: { $mid: 1, path: dir, scheme: "file" }, relativeLocation: rel, metadata: { source: "vsix" } }]));
' "$EXT_DIR" "$VERSION" > "$DATA/extensions/extensions.json"
echo
echo "== VS Code with ML Workbench: open http://127.0.0.1:$PORT/?folder=$MLW_ROOT/examples (Ctrl+C stops it) =="
exec node "$ENTRY" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry --disable-update-check \
  --user-data-dir "$DATA/user-data" --extensions-dir "$DATA/extensions" "$MLW_ROOT/examples"
