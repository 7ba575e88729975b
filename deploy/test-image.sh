#!/usr/bin/env bash
# Run the serving image with a tiny model and probe it from the host, then remove the container.
# Exits non-zero on the first check that fails. Checks: /health turns 200 and the image's HEALTHCHECK passes,
# /v1/models lists the model, a chat completion through the official openai client returns text, the server
# runs as the non-root user luban (uid 10001), `luban --help` runs in the image, SIGTERM stops it with exit 0.
#
# Environment: IMAGE (default luban-serve:cpu), MODEL (an HF model directory; default: a tiny random model
# built with `luban models tiny` into $WORK/tiny), WORK (.cache/image), PYTHON (.venv/bin/python, with luban
# and openai installed).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-luban-serve:cpu}
WORK=${WORK:-.cache/image}
PYTHON=${PYTHON:-.venv/bin/python}
. deploy/podman-env.sh
log() { echo "[test-image] $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
podman image exists "$IMAGE" || fail "no image $IMAGE: build it first (make image)"
if [ -z "${MODEL:-}" ]; then
  MODEL="$WORK/tiny"
  [ -f "$MODEL/config.json" ] || { rm -rf "$MODEL"; "$(dirname "$PYTHON")/luban" models tiny --corpus README.md \
    --out "$MODEL" --size test >/dev/null; }
fi
# The container's user (uid 10001) must be able to read the model; safetensors >= 0.8 writes its files 0600.
chmod -R a+rX "$MODEL"

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
name="luban-image-test-$$"
trap 'podman rm -f -v "$name" >/dev/null 2>&1 || true' EXIT
# podman logs that it cannot schedule the periodic health check without systemd; `healthcheck run` still works.
"${PODMAN[@]}" run -d --name "$name" "${ULIMITS[@]}" -p "127.0.0.1:$port:8000" -v "$MODEL:/models/model:ro" \
  "$IMAGE" /models/model --name tiny >/dev/null 2>"$WORK/run.err" || { cat "$WORK/run.err" >&2; fail "podman run"; }
base="http://127.0.0.1:$port"

log "waiting for $base/health"
start=$SECONDS
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ]; do
  [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] || { podman logs "$name" >&2; fail "container exited"; }
  [ $((SECONDS - start)) -lt 120 ] || { podman logs "$name" >&2; fail "/health not 200 after 120 s"; }
  sleep 1
done
log "/health 200 after $((SECONDS - start)) s"
podman healthcheck run "$name" >/dev/null 2>&1 || fail "HEALTHCHECK did not pass"  # exit 0 when healthy
log "HEALTHCHECK: healthy"

"$PYTHON" - "$base" <<'PY' || fail "API probe"
import sys

import httpx
from openai import OpenAI

base = sys.argv[1]
models = httpx.get(f"{base}/v1/models").json()
assert [m["id"] for m in models["data"]] == ["tiny"], models
client = OpenAI(base_url=f"{base}/v1", api_key="none")
r = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Hello"}], max_tokens=8)
text = r.choices[0].message.content
assert text and r.usage.completion_tokens > 0, r
print(f"[test-image] /v1/models lists tiny; chat completion: {text!r}, {r.usage.completion_tokens} tokens",
      file=sys.stderr)
PY

user=$(podman top "$name" user | awk 'NR == 2 {print $1}')
uid=$(podman exec "$name" python -c 'import os; print(os.stat("/proc/1").st_uid)')
[ "$user" = luban ] && [ "$uid" = 10001 ] || fail "server runs as $user (uid $uid), not luban (10001)"
log "server runs as $user (uid $uid)"

help=$("${PODMAN[@]}" run --rm "${ULIMITS[@]}" --entrypoint luban "$IMAGE" --help 2>/dev/null) \
  && [[ $help == *"serve"* ]] || fail "luban --help in the image"
log "luban --help runs in the image"

podman stop -t 30 "$name" >/dev/null 2>&1
code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || { podman logs "$name" >&2; fail "exit code $code after SIGTERM"; }
log "SIGTERM: exit 0"
log "OK: $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}'))"
