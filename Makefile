# The two commands a new user types: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime
LOG    := $(VENV)/install.log
# The install prints nothing unless it fails; then its log.
QUIET  = > $(LOG) 2>&1 || { cat $(LOG); exit 1; }

.PHONY: install demo test test-fast lint bench clean tf-validate reliability fidelity

# The runtime dependencies only: what `make demo` needs.
$(RUNTIME): pyproject.toml
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip $(QUIET)
	@$(PY) -m pip install --quiet -e . $(QUIET)
	@touch $(RUNTIME)

# And the dev extras: the test suite, lint and the benches.
$(STAMP): $(RUNTIME)
	@$(PY) -m pip install --quiet -e '.[dev]' $(QUIET)
	@touch $(STAMP)

install: $(STAMP)

demo: $(RUNTIME)
	@$(PY) -m gcp_setup.commands.demo

# Everything CI runs: the fast suite, the slow/fault-injection suites, lint, the counted reliability suites
# (tests/reliability) and the fidelity report (tests/fidelity), each run once: here, not in the pytest line.
test: $(STAMP)
	$(PY) -m pytest -q -m '(slow or not slow) and not reliability and not fidelity'
	$(MAKE) lint
	$(MAKE) reliability
	$(MAKE) fidelity

# Fault seeds, SIGKILL after every write, concurrent applies, bad inputs, emulator fuzz and a scan of
# every output for the run's secrets; prints the table docs/safety.md quotes.
RELIABILITY_REPORT := $(CURDIR)/.reliability.jsonl
reliability: $(STAMP)
	@rm -f $(RELIABILITY_REPORT)
	RELIABILITY_REPORT=$(RELIABILITY_REPORT) $(PY) -m pytest -q -p no:cacheprovider -m reliability tests/reliability
	@$(PY) -m tests.reliability.table $(RELIABILITY_REPORT)

# Real clients (gcloud, google-cloud-*, discovery clients, google-genai, openai, requests, curl) against the
# emulator, each scenario compared with its snapshot; prints pass/fail per scenario and the total, and writes
# docs/fidelity-scenarios.md. FIDELITY_TARGET=google records on Google instead (docs/emulator.md).
FIDELITY_REPORT := $(CURDIR)/.fidelity.jsonl
fidelity: $(STAMP)
	@rm -f $(FIDELITY_REPORT)
	FIDELITY_REPORT=$(FIDELITY_REPORT) $(PY) -m pytest -q -p no:cacheprovider -p localstack_snapshot.pytest.snapshot \
		-m fidelity tests/fidelity || true
	@$(PY) -m tests.fidelity.table $(FIDELITY_REPORT) --markdown docs/fidelity-scenarios.md

test-fast: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check gcp_setup tests bench
	$(VENV)/bin/ruff format --check gcp_setup tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/run.py

# Needs network (terraform init downloads hashicorp/google); offline, `make test` runs the schema check
# in tests/terraform/test_module.py instead. Works on a copy so that no .terraform/ or lock file lands here.
tf-validate:
	@tmp=$$(mktemp -d) && cp -r terraform $$tmp/ && trap 'rm -rf $$tmp' EXIT && \
	for dir in $$tmp/terraform $$tmp/terraform/examples/*/; do \
		echo "== $${dir#$$tmp/}" && \
		terraform -chdir=$$dir init -backend=false -input=false >/dev/null && \
		terraform -chdir=$$dir validate || exit 1; \
	done

clean:
	rm -rf $(VENV) build *.egg-info
