"""How long CI (`bash .ci/run` on a clean clone) takes, in its parts, against the CI budget.

    python bench/ci_budget.py            # a fresh clone of HEAD beside ../shared, as CI sees it
    python bench/ci_budget.py --keep     # and keep the clone (its path is printed)

Parts: the locked environment (`make venv`: a new .venv from requirements.txt), then the rest
of `.ci/run` (the browser step and the README's test command `make test`), with the test
command's JUnit report summed per test module (the install test builds one fresh environment
and runs every page opened alone; the site test builds the site once and checks it in a browser).
Budget: at most 300 s on 2 cores from a clean clone.
"""
import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOTAL_BUDGET_S = 300


def timed(cmd, cwd, env):
    start = time.perf_counter()
    code = subprocess.run(cmd, cwd=cwd, env=env).returncode
    return code, time.perf_counter() - start


def per_file_seconds(junit_xml):
    """Sum of test times per test module (or notebook), slowest first."""
    totals = collections.Counter()
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        name = case.get("classname", "")
        group = name if name.endswith(".ipynb") else ".".join(name.split(".")[:2])
        totals[group] += float(case.get("time", 0))
    return totals.most_common()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--keep", action="store_true", help="keep the clone")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ci-budget-"))
    clone = tmp / "course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (tmp / "shared").symlink_to(shared.resolve())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "VIRTUAL_ENV"))}
    env.update(CI="true", PYTEST_ADDOPTS=f"--junitxml={tmp / 'ci.xml'}")
    rows, failed = [], False
    code, venv_s = timed(["make", "venv"], clone, env)
    failed |= code != 0
    rows.append(("locked environment (make venv)", venv_s))
    code, rest_s = timed(["bash", ".ci/run"], clone, env)
    failed |= code != 0
    rows.append(("browser step + make test", rest_s))
    total = venv_s + rest_s
    print(f"\n| part of `bash .ci/run` from a clean clone | wall s |\n|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} |")
    print(f"| **total** (budget {TOTAL_BUDGET_S}) | **{total:.1f}**{' (over)' if total > TOTAL_BUDGET_S else ''} |")
    if (tmp / "ci.xml").exists():
        print("\n| test module | seconds (sum of its tests, one xdist worker each) |\n|---|---:|")
        for name, seconds in per_file_seconds(tmp / "ci.xml"):
            print(f"| {name} | {seconds:.1f} |")
    if args.keep:
        print(f"\nclone kept: {clone}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
