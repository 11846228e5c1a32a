# Two commands for a newcomer: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export SDL_VIDEODRIVER ?= dummy
export PYGAME_HIDE_SUPPORT_PROMPT := 1

.PHONY: demo test lint docs bench slow compare results

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[render,rl,bench,analysis,test,ray,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/exgen demo --out demo_output
	$(BIN)/exgen demo --world city --out demo_output
	$(BIN)/exgen compare gravity-shift --preset quick --out reports/gravity-shift-quick
	$(BIN)/exgen compare new-city --preset quick --out reports/new-city-quick

test: $(STAMP) lint docs
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .

# The docs site, built offline into site/ (ignored); --strict fails on any warning.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

slow: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[zoo]"
	$(BIN)/python -m pytest -n 2 -q -m slow

bench: $(STAMP)
	$(BIN)/exgen bench

compare: $(STAMP)
	$(BIN)/exgen compare gravity-shift --preset quick --out reports/gravity-shift-quick

# Publish the quick presets' reports (from `make demo`'s stores, without GIFs) on the
# docs' results page: docs/results/<experiment>-quick/.
results: $(STAMP)
	for name in gravity-shift new-city; do \
	    $(BIN)/exgen report $$name --preset quick --out reports/$$name-quick --no-gifs \
	    && rm -rf docs/results/$$name-quick && mkdir -p docs/results/$$name-quick \
	    && cp -r reports/$$name-quick/report/report.md reports/$$name-quick/report/figures \
	        reports/$$name-quick/report/tables docs/results/$$name-quick/ || exit 1; \
	done
