"""Loaded by pytest for every run in this repository (the unit tests in tests/ and the chapter
notebooks that nbval runs), before anything imports torch."""
from tools import threads

# One place decides torch's threads for every way of running the course (tools/threads.py);
# the notebook kernels that nbval starts inherit this environment.
threads.apply(processes=threads.pytest_workers())


def pytest_report_header(config):
    workers = config.getoption("numprocesses", default=None) or 1
    workers = workers if isinstance(workers, int) else threads.pytest_workers()
    return f"threads in each of {workers} test process(es): " \
           f"{threads.describe(threads.environment(workers))}"
