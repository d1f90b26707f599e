"""How long the README's test command takes, in its parts, against the CI budget.

    python bench/ci_budget.py              # notebooks (quick mode), then tests/ (site included)
    python bench/ci_budget.py --no-site    # tests/ without tests/test_site.py, plus a site build
                                           # into a temporary folder (leaves _build/ alone)

The notebooks run the way `make test` runs them (pytest-xdist, one notebook per worker);
the time of each notebook is the sum of its cells' times from pytest's JUnit XML report.
Budgets (2 cores, after install): notebooks <= 60 s, everything <= 180 s.
"""
import argparse
import collections
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_BUDGET_S, TOTAL_BUDGET_S = 60, 180


def timed(cmd):
    """Run a command in the repository root; (exit code, wall seconds)."""
    start = time.perf_counter()
    code = subprocess.run(cmd, cwd=ROOT).returncode
    return code, time.perf_counter() - start


def per_file_seconds(junit_xml):
    """Sum of test times per notebook / per test module, slowest first."""
    totals = collections.Counter()
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        name = case.get("classname", "")
        group = name if name.endswith(".ipynb") else ".".join(name.split(".")[:2])
        totals[group] += float(case.get("time", 0))
    return totals.most_common()


def pytest(args, workers, junit):
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers),
            "--dist", "loadfile", f"--junitxml={junit}", *args]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (as make test)")
    p.add_argument("--no-site", action="store_true",
                   help="skip tests/test_site.py; time a site build into a temporary folder instead")
    args = p.parse_args(argv)
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as tmp:
        code, nb_s = timed(pytest(["--nbval-lax", "chapters"], args.workers, f"{tmp}/nb.xml"))
        failed |= code != 0
        rows.append(("notebooks (nbval, quick mode)", nb_s, NOTEBOOK_BUDGET_S))
        per_nb = per_file_seconds(f"{tmp}/nb.xml") if Path(f"{tmp}/nb.xml").exists() else []
        extra = ["--deselect", "tests/test_site.py"] if args.no_site else []
        code, unit_s = timed(pytest(["tests", *extra], args.workers, f"{tmp}/unit.xml"))
        failed |= code != 0
        rows.append(("tests/" + (" without test_site.py" if args.no_site else ""), unit_s, None))
        per_test = per_file_seconds(f"{tmp}/unit.xml") if Path(f"{tmp}/unit.xml").exists() else []
        if args.no_site:
            jb = Path(sys.executable).with_name("jupyter-book")
            code, site_s = timed([str(jb), "build", ".", "--all", "-W", "-n", "--keep-going",
                                  "--path-output", f"{tmp}/site", "-q"])
            failed |= code != 0
            rows.append(("site build (jupyter-book -W)", site_s, None))
    total = sum(seconds for _, seconds, _ in rows)
    rows.append(("total", total, TOTAL_BUDGET_S))
    print("\n| part | wall s | budget s |\n|---|---:|---:|")
    for name, seconds, budget in rows:
        flag = "" if budget is None or seconds <= budget else " (over)"
        print(f"| {name} | {seconds:.1f} | {budget or ''}{flag} |")
    print("\n| notebook / test module | seconds (sum of its tests) |\n|---|---:|")
    for name, seconds in per_nb + per_test:
        print(f"| {name} | {seconds:.1f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
