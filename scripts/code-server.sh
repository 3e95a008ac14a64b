#!/usr/bin/env bash
# Installs code-server (a real VS Code 1.100.3 served to a browser) into a cache folder outside the repo,
# keyed by version, plus Debian's Chromium to drive it. Prints the code-server launcher path on stdout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION=4.100.3
DIR="$MLW_CACHE_DIR/code-server-$VERSION"
BIN="$DIR/node_modules/code-server/out/node/entry.js"
STAMP="$DIR/.complete"

apt_ensure libkrb5-dev ripgrep chromium

if [ -f "$STAMP" ]; then echo "$BIN"; exit 0; fi

rm -rf "$DIR"; mkdir -p "$DIR"; cd "$DIR"
log "installing code-server@$VERSION into $DIR (about a minute)"
echo '{"name":"mlw-code-server-cache","private":true}' > package.json
# Its postinstall downloads ripgrep from GitHub and refuses root: skip scripts and do their work by hand.
npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION" >&2
CS="$DIR/node_modules/code-server"
( cd "$CS/lib/vscode"
  npm install --no-audit --no-fund --omit=dev --ignore-scripts >&2
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
  npm_config_yes=true npm rebuild @parcel/watcher @vscode/deviceid @vscode/spdlog kerberos native-watchdog node-pty >&2
  ln -sfn node_modules node_modules.asar
  ( cd bin/remote-cli && ln -sfn code-linux.sh code-server )
  ( cd bin/helpers && ln -sfn browser-linux.sh browser.sh )
  ( cd extensions && npm install --no-audit --no-fund --omit=dev >&2 ) )
# argon2 is hoisted to the top node_modules, so rebuild it from the cache folder itself.
npm_config_yes=true npm rebuild argon2 >&2
node "$BIN" --version >&2 || die "code-server did not start; see the output above"
touch "$STAMP"
echo "$BIN"
