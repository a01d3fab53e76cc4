# The README's commands. Each one sets up what it needs first (see scripts/setup.sh): serve
# only the runtime packages, lint also the dev tools, the others also Debian's chromium.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup serve test test-fast lint bench screenshots

setup:
	./scripts/setup.sh --browser

serve:
	./scripts/setup.sh
	$(PY) -m app --host $(HOST) --port $(PORT)

test:
	./scripts/setup.sh --browser
	$(PY) -m ruff check .
	$(PY) -m pytest

# The developer's loop: core, the commands and the app, without a browser or the slow tests
# (the wheel install, the command runs); make test runs everything. On both cores, each test
# file on one of them (pytest-xdist), so a file's module fixtures run once.
test-fast:
	./scripts/setup.sh --dev
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not browser and not slow" tests/core tests/cli tests/app

lint:
	./scripts/setup.sh --dev
	$(PY) -m ruff check .

bench:
	./scripts/setup.sh --browser
	-$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0 || echo "bench: PyTorch not available, its column is skipped"
	$(PY) -m bench

screenshots:
	./scripts/setup.sh --browser
	CONVSTEP_SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest tests/browser/test_explore_screenshots.py \
		tests/browser/test_learn_screenshots.py tests/browser/test_network_screenshots.py \
		tests/browser/test_explore_filters.py::test_screenshots_of_eight_loaded_filters \
		tests/browser/test_learn_upload.py::test_upload_screenshots tests/browser/test_learn_yours.py \
		tests/browser/test_widget.py tests/browser/test_explore_transpose_screenshots.py -q
