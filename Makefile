# Two commands do everything on a fresh clone: `make demo` and `make test`.
# Each creates .venv/ when missing. torch is installed from the local CPU wheel
# first (pip finds it; a bare `torch` requirement would pull several GB of CUDA).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TORCH   ?= torch==2.13.0

.PHONY: demo test test-slow lint format bench clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[torch,dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
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
