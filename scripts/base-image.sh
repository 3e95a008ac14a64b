#!/usr/bin/env bash
# Builds the offline Python base image (Debian + Python from Debian's packages) when no registry answers.
# Prints the image reference on stdout. The tag is a hash of the package list, so a cached image is
# reused and a changed list rebuilds. debootstrap installs the core list; the extras go in with apt inside
# the new tree, because debootstrap resolves neither virtual packages (ipykernel's python3-zmq needs
# python3-cffi-backend's) nor some library dependencies (matplotlib's tree failed to configure).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES="python3,python-is-python3,python3-pip,python3-numpy,python3-sklearn,python3-pandas,python3-joblib,python3-flask,gunicorn"
# Plots in run outputs; MLflow's FastAPI serving stack (the serving benchmark's baseline); notebooks as runs.
EXTRAS="python3-matplotlib python3-fastapi python3-uvicorn python3-nbclient python3-nbformat python3-ipykernel"
SUITE=bookworm
TAG=$(printf '%s|%s|%s|v2' "$SUITE" "$PACKAGES" "$EXTRAS" | sha256sum | cut -c1-12)
IMAGE="mlw-local/python:$TAG"

bash "$MLW_ROOT/scripts/ensure-docker.sh"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE"; exit 0
fi

is_root || die "building the offline base image needs root (debootstrap). Or set mlw.baseImage to an image you have."
apt_ensure debootstrap
MIRROR=$(debian_mirror)
ROOTFS=$(mktemp -d /var/tmp/mlw-rootfs.XXXXXX)
trap 'umount "$ROOTFS/proc" 2>/dev/null || true; rm -rf "$ROOTFS"' EXIT
log "debootstrap $SUITE from $MIRROR (about a minute)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$MLW_CACHE_DIR/debootstrap.log" 2>&1 \
  || { tail -n 30 "$MLW_CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $MLW_CACHE_DIR/debootstrap.log)"; }
log "installing $EXTRAS"
mount -t proc proc "$ROOTFS/proc"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
# The same mirror debootstrap used, which may be a dated snapshot whose Release file has expired.
echo 'Acquire::Check-Valid-Until "false";' >"$ROOTFS/etc/apt/apt.conf.d/99mlw-build"
chroot "$ROOTFS" sh -c "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $EXTRAS" \
  >>"$MLW_CACHE_DIR/debootstrap.log" 2>&1 \
  || { tail -n 30 "$MLW_CACHE_DIR/debootstrap.log" >&2; die "installing $EXTRAS failed (log: $MLW_CACHE_DIR/debootstrap.log)"; }
umount "$ROOTFS/proc"
rm -f "$ROOTFS/etc/apt/apt.conf.d/99mlw-build"
# Debian marks its Python as externally managed; requirements.txt installs in runs must still work.
rm -f "$ROOTFS"/usr/lib/python3*/EXTERNALLY-MANAGED
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
log "importing $IMAGE"
tar -C "$ROOTFS" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["python3"]' - "$IMAGE" >/dev/null
docker run --rm "$IMAGE" python -c 'import sklearn, numpy, pandas, matplotlib, fastapi, uvicorn, nbclient, ipykernel' \
  || die "the imported image cannot import scikit-learn, matplotlib, fastapi, uvicorn, nbclient or ipykernel"
echo "$IMAGE"
