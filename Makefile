# gtlake: `make run` and `make test` set up everything themselves on a fresh machine.
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
UV := .uv/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_LINK_MODE := copy

SAMPLE := build/sample
LAKE ?= lake

.PHONY: run test test-fast lint format bench clean install

install: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Pinned by uv.lock; bytecode compiled at install time (PYTHONDONTWRITEBYTECODE is set here).
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --quiet
	touch $@

run: install
	rm -rf $(SAMPLE)
	$(VENV)/bin/gtlake demo $(SAMPLE)
	$(VENV)/bin/python -m dagster_project.run --source $(SAMPLE) --lake $(LAKE)

test: install
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -q

# The fast tier: everything but the tests marked slow (Dagster processes, the web server).
test-fast: install
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(VENV)/bin/python bench/ingest_vs_duckdb.py
	$(VENV)/bin/python bench/decoders.py
	$(VENV)/bin/python bench/huge_line.py
	$(VENV)/bin/python bench/commit_overhead.py
	$(VENV)/bin/python bench/s3_crawl.py

clean:
	rm -rf .uv $(VENV) build lake
