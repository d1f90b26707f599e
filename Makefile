# Two commands do everything on a fresh clone (see README.md):
#   make site   build the website into _build/html
#   make test   unit tests + every page opened alone (quick mode) + the site in a real browser
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PIP_INSTALL ?= $(PY) -m pip install -q  # (tests/test_plain_clone.py replaces it by a no-op)
# Offline data: use ../shared/data as the mirror when it exists and no mirror is set. A plain
# clone has no ../shared beside it: then nothing is exported and the data is downloaded (an
# exported empty variable would make every read fail).
ifeq ($(origin COURSE_DATA_MIRROR),undefined)
ifneq ($(wildcard ../shared/data),)
export COURSE_DATA_MIRROR := $(abspath ../shared/data)
endif
endif
# The test targets run quick mode whatever the shell holds: a COURSE_FULL=1 left there must not
# turn `make test` into full runs (results are written only by `make full`, see tools/notebooks.py).
QUICK := COURSE_FULL=0
# Torch's threads (and how they wait) are decided in one place, tools/threads.py, which every
# runner below goes through (pytest via conftest.py, make full, make bench).

.PHONY: venv site serve test browser unit notebooks lab full bench ci-budget lock clean

# PyTorch's CPU build (the course runs on a laptop CPU; PyPI's Linux torch is the CUDA build,
# several GB). For the CUDA build: make venv TORCH_INDEX=https://download.pytorch.org/whl/cu126
# (any index of https://pytorch.org/get-started/locally/); it is installed first, with the
# CUDA libraries its metadata pins, and requirements.txt then finds torch already there.
# Where a folder of local wheels holds the CPU build (/opt/wheels on this project's machines,
# where pip already finds it) no index is asked.
TORCH_WHEELS ?= $(wildcard /opt/wheels)
TORCH_INDEX  ?= $(if $(TORCH_WHEELS),,https://download.pytorch.org/whl/cpu)

# A .venv whose Python cannot run pip (an interrupted `make venv`, a venv made without pip)
# is not an environment: the stamp is then rebuilt whatever its date, and the recipe starts
# the .venv anew.
ifneq ($(shell $(PY) -m pip --version >/dev/null 2>&1 && echo ok),ok)
.PHONY: $(STAMP)
endif

# Every package at the version in requirements.txt (the lock); the course itself without its
# own dependency resolution; d2l (the books' code, the reference in tests and bench) without
# its pins, which do not install on Python 3.11 (its imports are all in the lock).
$(STAMP): requirements.txt requirements-d2l.txt pyproject.toml
	@if [ -e $(VENV) ] && ! $(PY) -m pip --version >/dev/null 2>&1; then \
	  echo "make: $(VENV) is incomplete ($(PY) cannot run pip: an interrupted 'make venv' or a venv made without pip); building it anew"; \
	  rm -rf $(VENV); \
	fi
	@[ -e $(VENV) ] || { echo "make: creating $(VENV) (the locked environment, requirements.txt)"; python3 -m venv $(VENV); }
	$(PIP_INSTALL) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) -c requirements.txt torch
	$(PIP_INSTALL) -r requirements.txt
	$(PIP_INSTALL) --no-deps -e .
	$(PIP_INSTALL) --no-deps -r requirements-d2l.txt
	touch $(STAMP)

venv: $(STAMP)

site: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# The built site also works opened straight from the folder; a local server adds the
# text snippets on the search page (browsers refuse them to file:// pages).
serve: site
	$(PY) -m http.server --bind 127.0.0.1 --directory _build/html 8000

# Everything. Without a browser the browser checks are skipped and the summary says so;
# `make browser` installs one (CI does, and there a skipped browser check is a failure).
# Every page runs in quick mode inside tests/test_install.py, opened alone as readers open it
# (a fresh environment with the course's wheel, each page in an empty folder with its bundle);
# `make notebooks` runs them with nbval in this environment instead.
test: $(STAMP)
	$(QUICK) $(PY) -m pytest -n 2 --dist loadfile -rs tests

# A browser for the site's test: CHROMIUM (a variable naming a Chromium/Chrome binary) or
# Debian's chromium when present; else Debian's package as root, else Playwright's own build.
browser: $(STAMP)
	@if [ -n "$$CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then \
	  echo "browser: $${CHROMIUM:-$$(command -v chromium)}"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else \
	  $(PY) -m playwright install chromium; \
	fi

# The course's own unit tests only: no site build, no browser, no notebooks, no installs.
unit: $(STAMP)
	$(QUICK) $(PY) -m pytest -n 2 --dist loadfile --ignore=tests/test_site.py -m "not install" tests

notebooks: $(STAMP)
	$(QUICK) $(PY) -m pytest -n 2 --dist loadfile --nbval-lax chapters

lab: $(STAMP)
	$(VENV)/bin/jupyter lab chapters

# Prints each notebook's wall time and the total; records mode, device, torch version,
# threads and wall time in each notebook's metadata (tabled in bench/full_runs.md for the
# site's benchmark page). On a machine with CUDA it runs there.
full: $(STAMP)
	$(PY) -m tools.notebooks run chapters/*.ipynb
	$(PY) -m tools.notebooks table chapters/*.ipynb > bench/full_runs.md

# Training speed of course_utils against d2l (the books' code), how torch's threads and their
# waiting change it, and a first visit to every page of the site on a slow phone connection:
# bench/results.*, bench/openmp_wait.* and bench/page_weight.*, on the benchmark page.
bench: $(STAMP)
	$(PY) bench/bench.py
	$(PY) bench/openmp_wait.py
	$(MAKE) site
	$(PY) bench/page_weight.py

# Wall time of the test command in its parts (notebooks, tests, site) against the CI budget.
ci-budget: $(STAMP)
	$(PY) bench/ci_budget.py

# Regenerate requirements.txt (the lock; pip-compile's default output name) from pyproject.toml
# (all extras) and tools/lock-pins.in, against torch's CPU build (TORCH_INDEX or TORCH_WHEELS
# above: the lock then holds none of the CUDA libraries); the build tag (+cpu) is dropped so
# that the lock also installs where the CPU build has none (PyPI's torch on Windows/macOS).
lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links $(if $(TORCH_WHEELS),-f $(TORCH_WHEELS)) \
	  $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) \
	  --extra lab --extra site --extra test --extra dev \
	  -o requirements.txt pyproject.toml tools/lock-pins.in
	sed -i.bak 's/^torch==\([0-9.]*\)+cpu$$/torch==\1/' requirements.txt && rm requirements.txt.bak

clean:
	rm -rf _build
