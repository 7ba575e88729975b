# Luban serving image, CPU. Build:  docker build -t luban-serve .
# Run:   docker run -p 8000:8000 -v /path/to/model:/models/model:ro luban-serve
# (the model is any Hugging Face directory or Luban model artifact folder; ONNX and .gguf work too).
# CUDA variant and an offline build (no Docker Hub, no PyTorch index): docs/serving.md ("Docker").
# BASE: any image with python and pip on PATH and useradd (Debian/Ubuntu); deploy/build-image-offline.sh
# makes one with debootstrap.
ARG BASE=python:3.11-slim
FROM ${BASE}

ARG EXTRAS=onnx
# Where torch comes from: PyTorch's CPU-only index by default, .../whl/cu128 for the CUDA variant, or any
# PEP 503 index that holds torch and its dependencies (the offline build serves one on 127.0.0.1).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    LUBAN_WORKSPACE=/data/luban-ws

WORKDIR /opt/luban
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY src ./src

# torch first, from TORCH_INDEX (PyTorch's CPU-only wheels) and at the version constraints.txt pins, so that
# resolving luban's dependencies never pulls the multi-GB CUDA build; 2.13.0+cpu satisfies ==2.13.0.
RUN pip install --index-url "${TORCH_INDEX}" "torch==2.13.0" \
 && pip install -c constraints.txt ".[${EXTRAS}]" \
 && rm -rf build src/*.egg-info \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin luban \
 && mkdir -p /data /models && chown luban:luban /data

USER luban
VOLUME ["/data"]
EXPOSE 8000

# /health answers 200 only once every model is loaded (503 while loading), so a slow model load
# shows as "starting", not "unhealthy"; start-period covers a large model on a slow disk.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

ENTRYPOINT ["luban", "serve", "--host", "0.0.0.0", "--port", "8000"]
CMD ["/models/model"]
