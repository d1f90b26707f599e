"""Loaded by pytest for every run in this repository (the unit tests in tests/ and the chapter
notebooks that nbval runs), before anything imports torch."""
from tools import threads

# One place decides torch's threads for every way of running the course (tools/threads.py);
# the notebook kernels that nbval starts inherit this environment.
threads.apply(processes=threads.pytest_workers())


def pytest_report_header(config):
    return f"threads per process: {threads.describe()}"
