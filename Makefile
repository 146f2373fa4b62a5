# Two commands do everything on a fresh clone: `make demo` and `make test`.
# Each creates .venv/ when missing. `demo` needs only the core (no torch); `test` adds torch,
# installed from the local CPU wheel first (pip finds it; a bare `torch` requirement would
# pull several GB of CUDA), then the [torch,dev] extras.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
CORE    := $(VENV)/.installed-core
STAMP   := $(VENV)/.installed
TORCH   ?= torch==2.13.0

.PHONY: demo test test-slow lint format bench clean-venv venv

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(CORE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(CORE)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[torch,dev]"
	touch $(CORE) $(STAMP)

venv: $(STAMP)

demo: $(CORE)
	$(BIN)/mrsim corrupt --trajectory examples/pace.csv -o demo_out
	@echo "outputs in $(CURDIR)/demo_out: clean.nii.gz corrupted.nii.gz corruption.png"

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[torch,dev,bench]"

clean-venv:
	rm -rf $(VENV)
