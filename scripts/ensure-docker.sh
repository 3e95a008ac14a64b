#!/usr/bin/env bash
# Makes sure a Docker engine answers. On Debian as root it installs docker.io and starts dockerd;
# anywhere else it explains how to start Docker and fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

docker_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if docker_ok; then exit 0; fi

if ! is_root || [ ! -f /etc/debian_version ]; then
  die "Docker is not reachable. Start Docker Desktop, or run 'sudo systemctl start docker' (Linux), then try again."
fi

if ! command -v dockerd >/dev/null 2>&1; then
  apt_ensure docker.io
fi

log "starting dockerd (log: /var/log/mlw-dockerd.log)"
nohup dockerd >/var/log/mlw-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker_ok; then log "Docker engine is up"; exit 0; fi
  sleep 0.5
done
tail -n 30 /var/log/mlw-dockerd.log >&2 || true
die "dockerd did not answer within 30 s; see /var/log/mlw-dockerd.log"
