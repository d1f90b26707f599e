"""How many threads torch uses and how its OpenMP threads wait: decided here and nowhere else.

Every way of running the course's code goes through `apply()` before torch loads:

- the tests (`make test`, `make unit`, `make notebooks`, plain `pytest`): the repository's
  root conftest.py, which pytest loads for `tests/` and `chapters/` alike;
- `make full` (tools/notebooks.py) and `make bench` (bench/*.py).

Notebook kernels inherit the environment of the process that starts them, so what is set
here holds in them too. Users running JupyterLab on their own laptop need none of this.

The policy (measured by bench/openmp_wait.py and bench/ci_budget.py; numbers on the
benchmark page):
- several processes at once (pytest-xdist workers): each gets cores / processes threads.
  With one thread per process OpenMP never waits for a partner thread at all; the two
  processes no longer steal each other's spinning cores.
- one process at a time: all cores, and a short spin before an idle thread sleeps
  (GOMP_SPINCOUNT). The default spin (300,000 rounds) made single epochs up to ~40x slower
  whenever another process wanted the cores; never spinning (OMP_WAIT_POLICY=PASSIVE)
  wakes the threads for every small per-step matmul, 1.7x slower on an idle machine.
"""
import os

SPINCOUNT = "1000"
VARIABLES = ("OMP_NUM_THREADS", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")
# Marks settings made by apply(): a child process (a pytest-xdist worker started by the
# controller, a kernel) may replace them with its own; settings a user made are kept.
MARK = "COURSE_THREADS_FROM"


def environment(processes=1, cores=None):
    """The thread settings for `processes` Python processes that train at the same time."""
    if not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive integer, got {processes!r}")
    cores = cores or os.cpu_count() or 1
    threads = max(1, cores // processes)
    return {"OMP_NUM_THREADS": str(threads), "GOMP_SPINCOUNT": SPINCOUNT}


def apply(processes=1, environ=None):
    """Set the policy in `environ` (default: this process) unless the user already chose
    the number of threads or the waiting; returns what is now in effect. Must run before
    torch is imported: libgomp reads these variables once, when it loads."""
    environ = os.environ if environ is None else environ
    ours = environ.get(MARK) == "tools.threads"
    if ours or not any(environ.get(name) for name in VARIABLES):
        for name in VARIABLES:
            environ.pop(name, None)
        environ.update(environment(processes), **{MARK: "tools.threads"})
    return describe(environ)


def describe(environ=None):
    """One line for records: the thread settings a process started with."""
    environ = os.environ if environ is None else environ
    parts = [f"{name}={environ[name]}" for name in VARIABLES if environ.get(name)]
    return " ".join(parts) or "OpenMP defaults"


def pytest_workers(environ=None):
    """How many pytest-xdist workers run at once (1 without xdist)."""
    environ = os.environ if environ is None else environ
    return int(environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
