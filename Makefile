# The README's two commands: `make demo` and `make test`. Each sets up .venv on its own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := dev,plot,tensorboard,bench
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint dot browser clean

demo: $(STAMP) dot
	$(BIN)/micrograd-like demo

test: $(STAMP) dot browser
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto

lint: $(STAMP)
	$(BIN)/ruff check micrograd_like tests demos benchmarks
	$(BIN)/ruff format --check micrograd_like tests demos benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --out benchmarks/latest.md

dot:
	@sh scripts/ensure-dot

# Chromium and chromedriver for the browser tests of the explain page (skipped without them).
browser:
	@sh scripts/ensure-browser

$(STAMP): pyproject.toml
	sh scripts/make-venv $(PYTHON) $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist
