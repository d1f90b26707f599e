# Two commands do everything on a fresh clone (see README.md):
#   make site   build the website into _build/html
#   make test   unit tests + every notebook (quick mode) + site build with warnings as errors
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Offline data: use ../shared/data as the mirror when it exists and no mirror is set.
export COURSE_DATA_MIRROR ?= $(abspath $(wildcard ../shared/data))
# torch's OpenMP threads spin while they wait. As soon as anything else wants the cores
# (make test runs two notebooks at once; a shared machine) that made training 10-70x
# slower on a 2-core machine; waiting threads that sleep (PASSIVE) kept full speed there.
# Read once when torch loads, so it must be in the environment: notebook kernels inherit it.
export OMP_WAIT_POLICY ?= PASSIVE

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
# threads and wall time in each notebook's metadata. On a machine with CUDA it runs there.
full: $(STAMP)
	COURSE_FULL=1 $(PY) -m course_utils.notebooks run chapters/*.ipynb

# Training speed of course_utils against d2l (the books' code): bench/results.json and the
# table bench/results.md that the site's benchmark page shows.
bench: $(STAMP)
	$(PY) bench/bench.py

# Wall time of the test command in its parts (notebooks, tests, site) against the CI budget.
ci-budget: $(STAMP)
	$(PY) bench/ci_budget.py

clean:
	rm -rf _build
