# Shared helpers for the project's set-up scripts (sourced, not run).
set -euo pipefail
MLW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Slow artefacts (code-server, base-image rootfs hash) live outside the repo so a fresh clone reuses them.
MLW_CACHE_DIR="${MLW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-workbench}"
mkdir -p "$MLW_CACHE_DIR"

log() { printf '[mlw-setup] %s\n' "$*" >&2; }
die() { printf '[mlw-setup] error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# apt-get install only the packages that are missing, so repeated runs cost nothing.
apt_ensure() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  is_root || die "missing Debian packages: ${missing[*]} (install them with: sudo apt-get install -y ${missing[*]})"
  log "installing ${missing[*]}"
  # A stale package index is the usual cause of 404s on a fresh machine.
  if [ ! -f "$MLW_CACHE_DIR/.apt-updated" ] || [ -n "$(find "$MLW_CACHE_DIR/.apt-updated" -mmin +720)" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    touch "$MLW_CACHE_DIR/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$MLW_CACHE_DIR/apt.log" 2>&1 \
    || { tail -n 20 "$MLW_CACHE_DIR/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
}

# The machine's Debian mirror, read from its apt sources (never hard-coded).
debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$m" ] || die "cannot find a Debian mirror in /etc/apt/sources.list(.d)"
  echo "$m"
}
