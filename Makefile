# The two commands a new user types: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean tf-validate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m gcp_setup.demo

# Everything CI runs: the fast suite, the slow/fault-injection suites, and lint.
test: $(STAMP)
	$(PY) -m pytest -q -m 'slow or not slow'
	$(MAKE) lint

test-fast: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check gcp_setup tests bench
	$(VENV)/bin/ruff format --check gcp_setup tests bench

bench: $(STAMP)
	$(PY) bench/run.py

tf-validate:
	cd terraform && terraform init -backend=false && terraform validate

clean:
	rm -rf $(VENV) build *.egg-info
