# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing and installs only when pyproject.toml or constraints.txt changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.luban-installed
PYTEST_ARGS ?=

.PHONY: demo test lint bench clean install labelstudio

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@# torch first and pinned, so that no later resolution pulls a multi-GB CUDA build
	@$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	@$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/luban demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) luban-ws .pytest_cache

# Label Studio for the annotation round trip (tests/data/labelstudio): its pins clash with ours, so it
# gets its own virtualenv; tests and users run it as a separate server process.
labelstudio: .venv-ls/bin/label-studio

.venv-ls/bin/label-studio:
	$(PYTHON) -m venv .venv-ls
	.venv-ls/bin/python -m pip install -q --upgrade pip
	.venv-ls/bin/python -m pip install -q 'label-studio==1.23.2'
