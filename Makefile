# Two commands do everything on a fresh clone (see README.md):
#   make site   build the website into _build/html
#   make test   unit tests + every notebook (quick mode) + site build with warnings as errors
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Offline data: use ../shared/data as the mirror when it exists and no mirror is set.
export COURSE_DATA_MIRROR ?= $(abspath $(wildcard ../shared/data))
# How torch's OpenMP threads wait is set where torch starts: tests/conftest.py (PASSIVE, as
# the tests run two notebooks at once) and course_utils/notebooks.py (a short spin, for
# one notebook at a time); bench/bench.py does the same as the latter.

.PHONY: venv site serve test chromium unit notebooks lab full bench ci-budget clean

$(STAMP): requirements.txt requirements-d2l.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-d2l.txt
	touch $(STAMP)

venv: $(STAMP)

site: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# The built site also works opened straight from the folder; a local server adds the
# text snippets on the search page (browsers refuse them to file:// pages).
serve: site
	$(PY) -m http.server --bind 127.0.0.1 --directory _build/html 8000

test: $(STAMP) chromium
	$(PY) -m pytest -n 2 --dist loadfile --nbval-lax tests chapters

# The site's browser test drives Debian's chromium through Playwright (which then downloads
# no browser of its own). Installed once (about 40 s), skipped when present.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else \
	    echo "make test needs Debian's chromium: run 'sudo apt-get install chromium' once"; exit 1; \
	  fi; }

unit: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile tests

notebooks: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile --nbval-lax chapters

lab: $(STAMP)
	$(VENV)/bin/jupyter lab chapters

# Prints each notebook's wall time and the total; records mode, device, torch version,
# threads and wall time in each notebook's metadata (tabled in bench/full_runs.md for the
# site's benchmark page). On a machine with CUDA it runs there.
full: $(STAMP)
	COURSE_FULL=1 $(PY) -m course_utils.notebooks run chapters/*.ipynb
	$(PY) -m course_utils.notebooks table chapters/*.ipynb > bench/full_runs.md

# Training speed of course_utils against d2l (the books' code), then how OpenMP's waiting
# changes it: bench/results.* and bench/openmp_wait.*, the tables the benchmark page shows.
bench: $(STAMP)
	$(PY) bench/bench.py
	$(PY) bench/openmp_wait.py

# Wall time of the test command in its parts (notebooks, tests, site) against the CI budget.
ci-budget: $(STAMP)
	$(PY) bench/ci_budget.py

clean:
	rm -rf _build
