#!/usr/bin/env bash
# Build the serving image from the repository's Dockerfile without Docker Hub or download.pytorch.org:
# only a Debian mirror and PyPI are needed (plus a CPU torch wheel that pip can find locally).
#
#   1. base image: Debian bookworm (Python 3.11) from debootstrap, a venv at /opt/venv first on PATH so that
#      `python` and `pip` behave as in python:3.11-slim; imported once as $BASE_IMAGE and reused.
#   2. torch: `pip download torch==<pin>` with this machine's pip configuration must find a +cpu wheel; it
#      and its dependencies are served as a PEP 503 index on 127.0.0.1 for the build's TORCH_INDEX.
#   3. `podman build` of the unchanged Dockerfile, build args only (BASE, TORCH_INDEX, EXTRAS).
#
# Needs root (debootstrap, rootful podman), podman and debootstrap (apt-get install podman debootstrap).
# Environment: IMAGE (default luban-serve:cpu), BASE_IMAGE (localhost/luban-base:bookworm), EXTRAS (onnx),
# WORK (.cache/image: rootfs and wheels), MIRROR (http://deb.debian.org/debian), PYTHON (.venv/bin/python,
# whose pip downloads the wheels), PIP_FIND_LINKS (a folder holding the CPU torch wheel, if pip does not
# find one by itself).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-luban-serve:cpu}
BASE_IMAGE=${BASE_IMAGE:-localhost/luban-base:bookworm}
EXTRAS=${EXTRAS:-onnx}
WORK=${WORK:-.cache/image}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PYTHON=${PYTHON:-.venv/bin/python}
TORCH_PIN=$(grep -E '^torch==' constraints.txt)
NICE="nice -n ${NICENESS:-19}"  # the build shares the machine; keep it out of the way of other work

. deploy/podman-env.sh
log() { echo "[build-image] $*" >&2; }
[ "$(id -u)" = 0 ] || { log "run as root: debootstrap and rootful podman need it"; exit 1; }
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

# 1. base image
if podman image exists "$BASE_IMAGE"; then
  log "base $BASE_IMAGE exists (podman rmi it to rebuild)"
else
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  log "debootstrap bookworm into $rootfs"
  $NICE debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$MIRROR" >"$WORK/debootstrap.log"
  # python:3.11-slim's shape: python and pip on PATH, writable by the build (a venv, as Debian's own python is
  # externally managed under PEP 668).
  chroot "$rootfs" /usr/bin/python3 -m venv /opt/venv
  # bookworm's venv brings pip 23.0; python:3.11-slim has a current pip (PEP 517 builds for every sdist)
  rm -rf "$WORK/base-wheels"
  $NICE "$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: -d "$WORK/base-wheels" pip
  cp "$WORK"/base-wheels/pip-*.whl "$rootfs/tmp/"
  chroot "$rootfs" /bin/sh -c '/opt/venv/bin/python -m pip install -q --no-index --no-cache-dir /tmp/pip-*.whl && rm /tmp/pip-*.whl'
  printf '[global]\n# the system CA store, as Debian'"'"'s own pip uses, instead of the certifi copy in pip\ncert = %s\n' \
    /etc/ssl/certs/ca-certificates.crt >"$rootfs/etc/pip.conf"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
         "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  log "importing $BASE_IMAGE"
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

# 2. torch and its dependencies as a local index
wheels="$WORK/wheels"
index="$WORK/index"
rm -rf "$wheels" "$index"
log "pip download $TORCH_PIN (and its dependencies)"
$NICE "$PYTHON" -m pip download -q --disable-pip-version-check --only-binary :all: -c constraints.txt \
  -d "$wheels" "$TORCH_PIN"
torch_wheel=$(cd "$wheels" && ls torch-*.whl)
case "$torch_wheel" in
  *+cpu*) ;;
  *) log "pip found $torch_wheel, not a +cpu wheel (the CUDA build is several GB): put the CPU wheel in a" \
         "folder and set PIP_FIND_LINKS to it"; exit 1 ;;
esac
"$PYTHON" - "$wheels" "$index" <<'PY'
import hashlib, re, sys
from pathlib import Path

wheels, index = Path(sys.argv[1]), Path(sys.argv[2])
for whl in sorted(wheels.glob("*.whl")):
    project = re.sub(r"[-_.]+", "-", whl.name.split("-")[0]).lower()
    page = index / "simple" / project
    page.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(whl.read_bytes()).hexdigest()
    (page / whl.name).symlink_to(whl)
    with open(page / "index.html", "a") as f:
        f.write(f'<a href="{whl.name}#sha256={digest}">{whl.name}</a><br>\n')
PY
# A fixed port while it is free: TORCH_INDEX is a build arg, so a new port would miss podman's layer cache.
port=$("$PYTHON" - "${INDEX_PORT:-38765}" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
)
"$PYTHON" -m http.server "$port" --bind 127.0.0.1 --directory "$index" >"$WORK/index.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

# 3. the image. --network host: the build reaches the index on 127.0.0.1 and PyPI; --format docker keeps
# HEALTHCHECK (OCI image configs have no field for it).
log "podman build $IMAGE (EXTRAS=$EXTRAS)"
$NICE "${PODMAN[@]}" build --format docker --network host "${ULIMITS[@]}" "${CA_MOUNT[@]}" \
  --build-arg BASE="$BASE_IMAGE" \
  --build-arg TORCH_INDEX="http://127.0.0.1:$port/simple" \
  --build-arg EXTRAS="$EXTRAS" \
  -t "$IMAGE" .
log "built $IMAGE: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
