# Two commands on a fresh machine: `make demo` and `make test`. Each sets itself up.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test check lint templates system-deps bench wheelhouse clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP)
	@$(PY) -m toolkit demo brandkit-demo

lint: $(STAMP)
	@$(PY) -m ruff check toolkit tests benchmarks scripts
	@$(VENV)/bin/lint-imports --no-cache
	@rc=0; for p in linux win32 darwin; do echo "mypy --platform $$p"; $(PY) -m mypy --platform $$p --cache-dir .mypy_cache/$$p toolkit || rc=1; done; exit $$rc

test: $(STAMP) system-deps lint
	@$(PY) -m pytest -q -p no:cacheprovider

# The edit-test loop: the in-process tier (no LibreOffice, dovecot, browser, network or slow tests) on every
# core (pytest-xdist), under a minute on two.
check: $(STAMP)
	@$(PY) -m ruff check toolkit tests benchmarks scripts
	@$(PY) -m pytest -q -p no:cacheprovider -n auto -m "not libreoffice and not dovecot and not browser and not slow and not network"

templates: $(STAMP)
	@$(PY) scripts/build_templates.py

bench: $(STAMP)
	@$(PY) benchmarks/merge.py

# Offline install: wheels of brandkit and every dependency for Windows, macOS and Linux (see README).
wheelhouse: $(STAMP)
	@$(PY) scripts/wheelhouse.py

clean:
	rm -rf $(VENV) brandkit-demo .pytest_cache .mypy_cache wheelhouse
