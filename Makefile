# School Pairing Tracker. `make run` and `make test` are all a new machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app

.PHONY: run install install-dev test lint translations compile-translations bench bench-full clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed compile-translations

install-dev: $(VENV)/.installed-dev compile-translations

## Compile the message catalogs (the .mo files are build output, not committed).
compile-translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d pairing/translations

## Create the venv, install, migrate, load the demo data if empty, serve on 127.0.0.1:5000.
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

## Lint and run the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set).
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .

## Extract messages, update the catalogs, compile them.
translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o pairing/translations/messages.pot .
	$(BIN)/pybabel update -N -i pairing/translations/messages.pot -d pairing/translations
	$(BIN)/pybabel compile -d pairing/translations

## Benchmarks at city and nation scale (nation x10: make bench-full).
bench: install-dev
	$(BIN)/python -m bench.run --scales city,nation

bench-full: install-dev
	$(BIN)/python -m bench.run --scales city,nation,nation10

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
