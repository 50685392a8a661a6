# Every target does its own set-up: a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
CLI    := $(VENV)/bin/khrushchev-essays
STAMP  := $(VENV)/.installed-stamp
PIPELINE := models/pipeline/config.cfg
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install bytecode pipeline browser axe redis postgres test test-postgres test-fast run grade evaluate bench bench-web bench-copying robustness calibrate check-rubrics clean order-model phrasing-model

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# The package's bytecode, as pip writes it for an installed wheel. An editable install writes none,
# and where PYTHONDONTWRITEBYTECODE is set Python never does, so each command compiled every module
# again (~60 ms of a grade's start-up). Only changed files are compiled again.
bytecode: $(STAMP)
	@$(PY) -m compileall -q khrushchev_essays

$(PIPELINE): $(STAMP)
	$(CLI) build-pipeline

pipeline: $(PIPELINE)

# Debian's chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@bash scripts/ensure-chromium.sh

# axe-core from npm (pinned in package-lock.json) for the accessibility browser tests.
axe:
	@bash scripts/ensure-axe.sh

# Debian's redis-server for the shared rate-limit tests (they start their own on loopback).
redis:
	@bash scripts/ensure-redis.sh

# Debian's postgresql for test-postgres.
postgres:
	@bash scripts/ensure-postgres.sh

test: install pipeline browser axe redis
	$(PY) -m pytest -n 2 --dist loadfile -q

# The whole suite again on PostgreSQL: a throwaway cluster in a temporary folder (unix socket only),
# a schema per test, removed when the run ends.
test-postgres: install pipeline browser axe redis postgres
	bash scripts/with-postgres.sh $(PY) -m pytest -n 2 --dist loadfile -q

# Everything but the browser tests, for a quick loop.
test-fast: install pipeline
	$(PY) -m pytest -n 2 --dist loadfile -q -m "not browser and not slow"

run: install bytecode pipeline
	$(CLI) serve --host $(HOST) --port $(PORT)

# Grade essays from the command line: make grade FILES="essay1.txt essays/ class.csv"
grade: install bytecode pipeline
	$(CLI) grade $(FILES) $(ARGS)

evaluate: install pipeline
	@for set in calibration calibration2; do \
	  if [ -f ../shared/$$set/labels.tsv ]; then \
	    echo "== $$set"; $(CLI) evaluate ../shared/$$set --labels ../shared/$$set/labels.tsv || exit $$?; \
	  else echo "../shared/$$set not found: skipped"; fi; \
	done

# The order model (claims.py): which essays' sentences are not in the writer's order; writes the
# package data khrushchev_essays/models/order_model.json.
order-model: install pipeline
	$(PY) scripts/train_order_model.py
	$(PY) scripts/train_paragraph_order.py

# The phrasing model (scoring/phrasing.py): counts of runs of word kinds in the marked essays.
phrasing-model: install pipeline
	$(PY) scripts/train_phrasing_model.py --shared $(SHARED)

bench: install bytecode pipeline
	$(PY) benchmarks/bench_scoring.py $(ARGS)

# Perturbations a sound marker resists (keyword salad, shuffled, padded, misspelt...), scored by the
# engine: passed/total per kind. A benchmark, not a test. ARGS="--verbose" lists the failing cases;
# the marked essays in $(SHARED) are skipped with a message when absent.
SHARED ?= ../shared
robustness: install pipeline
	$(PY) benchmarks/robustness.py --shared $(SHARED) $(ARGS)

bench-copying: install
	$(PY) benchmarks/bench_copying.py $(ARGS)

# Loopback load on the API and the essay form at 1, 8 and 32 clients, one and two workers, beside
# a trivial route (ARGS="--quick" for a short run). A benchmark, not a test.
bench-web: install bytecode pipeline
	$(PY) benchmarks/bench_web.py $(ARGS)

# Train the shipped calibrators from the marked essays (leave-one-out, fixed random state) into the
# package data, khrushchev_essays/models/calibrators/; commit the <question>.model.json (the model's
# numbers) and <question>.json (its sidecar) it writes. Re-run whenever the rubrics change. (Retraining at run time writes instance/calibrators/ instead.)
SHIPPED_CALIBRATORS := khrushchev_essays/models/calibrators
calibrate: install pipeline
	$(CLI) train --labels ../shared/calibration/labels.tsv --labels ../shared/calibration2/labels.tsv --out $(SHIPPED_CALIBRATORS)

check-rubrics: install
	$(CLI) rubric check

clean:
	rm -rf $(VENV) models/pipeline .pytest_cache .hypothesis node_modules
