# Two commands on a fresh machine: `make demo` and `make test`. Each sets itself up.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint templates system-deps bench clean

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

test: $(STAMP) system-deps lint
	@$(PY) -m pytest -q -p no:cacheprovider

templates: $(STAMP)
	@$(PY) scripts/build_templates.py

bench: $(STAMP)
	@$(PY) benchmarks/merge.py

clean:
	rm -rf $(VENV) brandkit-demo .pytest_cache
