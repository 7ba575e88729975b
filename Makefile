# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing and installs only when pyproject.toml or constraints.txt changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.luban-installed
PYTEST_ARGS ?=

# GGUF: llama-cpp-python compiles llama.cpp when installed (about 10 minutes on 2 cores, at every fresh .venv:
# see LLAMA_CPU_FLAGS), and its sdist carries llama.cpp's convert_hf_to_gguf.py, which the GGUF export runs.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_SRC := .cache/llama_cpp_python-$(LLAMA_CPP_VERSION)
GGUF_STAMP := $(VENV)/.luban-gguf-$(LLAMA_CPP_VERSION)-noamx
# llama.cpp compiles for this CPU (-march=native) but without Intel AMX: some virtual machines advertise AMX and
# then fault on its first tile instruction (SIGILL in every q8_0 / q4_K matmul). `make gguf LLAMA_CPU_FLAGS=`
# keeps AMX on a machine where it works. --no-cache-dir: pip's wheel cache ignores these flags.
LLAMA_CPU_FLAGS ?= -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export LLAMA_CPP_DIR ?= $(if $(wildcard $(LLAMA_SRC)/vendor/llama.cpp/convert_hf_to_gguf.py),$(CURDIR)/$(LLAMA_SRC)/vendor/llama.cpp,)

.PHONY: demo test lint bench clean install labelstudio gguf

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@# torch first and pinned, so that no later resolution pulls a multi-GB CUDA build
	@$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	@$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

gguf: $(GGUF_STAMP) $(BIN)/llama-server

$(GGUF_STAMP): $(STAMP)
	@mkdir -p .cache
	@test -f $(LLAMA_SRC)/vendor/llama.cpp/convert_hf_to_gguf.py || { \
	  $(BIN)/python -m pip download -q --no-deps --no-binary :all: -d .cache llama-cpp-python==$(LLAMA_CPP_VERSION) && \
	  tar -xzf .cache/llama_cpp_python-$(LLAMA_CPP_VERSION).tar.gz -C .cache; }
	CMAKE_ARGS="-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF" \
	  CFLAGS="$(LLAMA_CPU_FLAGS)" CXXFLAGS="$(LLAMA_CPU_FLAGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(BIN)/python -m pip install -q --no-cache-dir --force-reinstall --no-deps -c constraints.txt \
	  .cache/llama_cpp_python-$(LLAMA_CPP_VERSION).tar.gz
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[gguf]'
	@touch $@

# llama.cpp's own C++ server (the `llama-server` serving backend), from the same vendored sources and linked against
# the libraries llama-cpp-python compiled above: only llama.cpp's common helpers and the server are compiled here.
LLAMA_LIBDIR = $$($(BIN)/python -c "import importlib.util as u, pathlib; print(pathlib.Path(u.find_spec('llama_cpp').origin).parent / 'lib')")
$(BIN)/llama-server: $(GGUF_STAMP) deploy/llama-server/CMakeLists.txt
	cmake -S deploy/llama-server -B .cache/llama-server-build -DCMAKE_BUILD_TYPE=Release \
	  -DLLAMA_SRC=$(CURDIR)/$(LLAMA_SRC)/vendor/llama.cpp -DLLAMA_LIBDIR=$(LLAMA_LIBDIR)
	cmake --build .cache/llama-server-build --target llama-server -j $$(nproc)
	cp .cache/llama-server-build/bin/llama-server $@

demo: $(STAMP)
	$(BIN)/luban demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports  # the package table of DESIGN.md (contracts in pyproject.toml)

clean:
	rm -rf $(VENV) luban-ws .pytest_cache .cache

# Label Studio for the annotation round trip (tests/data/labelstudio): its pins clash with ours, so it
# gets its own virtualenv; tests and users run it as a separate server process.
labelstudio: .venv-ls/bin/label-studio

.venv-ls/bin/label-studio:
	$(PYTHON) -m venv .venv-ls
	.venv-ls/bin/python -m pip install -q --upgrade pip
	@# sentry-sdk 3 drops an option label-studio 1.23.2 passes at start-up (TypeError: send_default_pii)
	.venv-ls/bin/python -m pip install -q 'label-studio==1.23.2' 'sentry-sdk>=2.16,<3'

# The serving image from the Dockerfile, built with podman where Docker Hub and download.pytorch.org are out of
# reach (base from debootstrap, a local CPU torch wheel; needs root, podman and debootstrap). Opt-in, not part
# of `make test`: about 4 minutes from nothing on 2 cores. docs/serving.md ("Docker").
.PHONY: image image-test
image: $(STAMP)
	deploy/build-image-offline.sh

image-test: image
	deploy/test-image.sh
