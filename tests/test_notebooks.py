"""What the site publishes: every chapter notebook stores outputs of a full run, made by the
code, the course_utils modules and the results files that are in the repository now; and the
full-run executor (tools/notebooks.py) never leaves a page half-written or results of a page
that failed."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import notebooks

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
SHIPPED = sorted((ROOT / "course_utils" / "full_results").glob("*.json"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_stored_outputs_are_from_a_full_run_of_the_current_code(path):
    assert notebooks.problems(path) == []


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc


def test_every_results_file_is_read_by_some_page():
    """Nothing is saved that no page reads: a page that calls results.load quotes the file's name
    outside a results.save line (chapter 10 names its sources in its settings cell). The install
    test proves the same at run time, from what every page opened alone logs as read."""
    assert SHIPPED, "no results shipped with course_utils"
    readers = {}
    for path in CHAPTERS:
        lines = [line for cell in notebooks.code_cells(json.loads(path.read_text(encoding="utf-8")))
                 for line in "".join(cell["source"]).splitlines()]
        if any("results.load(" in line for line in lines):
            quoted = "\n".join(line for line in lines if "results.save" not in line)
            for file in SHIPPED:
                if f'"{file.stem}"' in quoted:
                    readers.setdefault(file.name, []).append(path.name)
    assert sorted(readers) == [f.name for f in SHIPPED], \
        f"results files no page reads: {sorted({f.name for f in SHIPPED} - set(readers))}"


def test_problems_catches_bad_notebooks(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "source": ["1/0"], "execution_count": 2, "metadata": {},
         "outputs": [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "x",
                      "traceback": []}]},
        {"cell_type": "code", "source": ["print(p)"], "execution_count": 1, "metadata": {},
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "/home/me/data\n"},
                     {"output_type": "stream", "name": "stderr",
                      "text": "x.py:3: UserWarning: Glyph 35757 missing from font(s) DejaVu Sans.\n"}]}],
        "metadata": {"course": {"mode": "quick"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(nb))
    found = " | ".join(notebooks.problems(path))
    assert "not from a full run" in found and "execution counts" in found
    assert "stored error ZeroDivisionError" in found and "absolute path" in found
    assert "a warning in the stored outputs" in found and "Glyph 35757" in found


def test_problems_names_a_page_whose_full_run_on_the_cpu_is_over_the_time_budget(tmp_path):
    path = tmp_path / "02_text_preprocessing.ipynb"
    nb = json.loads((ROOT / "chapters" / path.name).read_text(encoding="utf-8"))
    for device, seconds, over in [("cpu", 180.0, False), ("cpu", 181.0, True), ("cuda", 400.0, False)]:
        nb["metadata"]["course"].update(device=device, wall_time_s=seconds)
        path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
        found = " | ".join(notebooks.problems(path))
        assert ("181 s on the CPU, over the 180 s budget" in found) == over, (device, seconds, found)


def fake_package(root):
    """A package like course_utils: the page imports `lesson`, which imports `helper` inside
    the package; `unused` is imported by nobody."""
    package = root / "course_utils"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""pkg"""\n')
    (package / "lesson.py").write_text("from . import helper\n\nVALUE = helper.X\n")
    (package / "helper.py").write_text("X = 1\n")
    (package / "unused.py").write_text("Y = 2\n")
    results = package / "full_results"
    results.mkdir()
    (results / "baseline.json").write_text('{"settings": {}, "metrics": {"ppl": 1.5}}\n')
    (results / "other.json").write_text('{"settings": {}, "metrics": {}}\n')
    return package, results


def page(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_staleness_names_the_code_the_modules_and_the_results_that_changed(tmp_path):
    package, results = fake_package(tmp_path)
    nb = page("%matplotlib inline\nfrom course_utils import lesson", "x = lesson.VALUE")
    assert notebooks.imported_modules(nb, package) == [
        "course_utils/__init__.py", "course_utils/helper.py", "course_utils/lesson.py"]
    assert notebooks.staleness(nb, "p.ipynb", package, results)[0].startswith("p.ipynb: no record")
    nb.metadata["course"] = {"sources": notebooks.sources_record(nb, ["baseline", "baseline"], package, results)}
    assert notebooks.staleness(nb, "p.ipynb", package, results) == []
    (results / "other.json").write_text("{}")  # not read by this page
    (package / "unused.py").write_text("Y = 3\n")  # not imported by it
    assert notebooks.staleness(nb, "p.ipynb", package, results) == []
    (package / "helper.py").write_text("X = 2\n")  # imported through lesson.py
    (results / "baseline.json").write_text('{"settings": {}, "metrics": {"ppl": 9.9}}\n')
    nb.cells[1].source = "x = lesson.VALUE + 1"
    [message] = notebooks.staleness(nb, "p.ipynb", package, results)
    assert message.startswith("p.ipynb: stored outputs are stale: its code cells, "
                              "course_utils/helper.py, results baseline.json changed")
    (results / "baseline.json").unlink()
    assert "results baseline.json" in notebooks.staleness(nb, "p.ipynb", package, results)[0]


def test_a_full_run_of_a_page_records_what_made_it_and_the_check_sees_each_change(tmp_path):
    """End to end on a copy of a cheap page (chapter 2, a few seconds in full mode)."""
    chapter = tmp_path / "chapters" / "02_text_preprocessing.ipynb"
    chapter.parent.mkdir()
    shutil.copy(ROOT / "chapters" / chapter.name, chapter)
    results = tmp_path / "full_results"
    meta = notebooks.execute(chapter, full=True, results_dir=results)
    assert meta["mode"] == "full" and meta["sources"]["results"] == {}
    assert "course_utils/data.py" in meta["sources"]["modules"]
    assert notebooks.problems(chapter, results_dir=results) == []
    package = tmp_path / "course_utils"
    shutil.copytree(ROOT / "course_utils", package, ignore=shutil.ignore_patterns("__pycache__"))
    assert notebooks.problems(chapter, package_dir=package, results_dir=results) == []
    with open(package / "data.py", "a", encoding="utf-8") as f:
        f.write("\n# changed\n")
    assert notebooks.problems(chapter, package_dir=package, results_dir=results) == [
        "02_text_preprocessing.ipynb: stored outputs are stale: course_utils/data.py changed since "
        "its full run; re-run it with `make full`"]
    nb = nbformat.read(chapter, as_version=4)
    settings = next(c for c in nb.cells[1:] if c.cell_type == "code")
    settings.source += "\n# 改了设置却没有重新运行"
    notebooks.write_notebook(chapter, nb)
    assert "its code cells changed" in " ".join(notebooks.problems(chapter, results_dir=results))


SAVES = ["from course_utils import results",
         'results.save("syn_page", settings={"n": 1}, metrics={"ppl": 2.5}, full=True)',
         'assert results.load("syn_page")["metrics"]["ppl"] == 2.5  # this run\'s staged copy\n'
         'baseline = results.load("kneser_ney")']


def test_results_of_a_page_are_moved_into_place_only_when_the_whole_page_succeeded(tmp_path, capsys):
    results = tmp_path / "full_results"
    results.mkdir()
    shutil.copy(ROOT / "course_utils" / "full_results" / "kneser_ney.json", results)
    failing = tmp_path / "failing.ipynb"
    nbformat.write(page(*SAVES, 'print("\\x1b[31m红色\\x1b[0m")\nraise RuntimeError("boom")'), failing)
    before = failing.read_bytes()
    good = tmp_path / "good.ipynb"
    nbformat.write(page(*SAVES), good)
    original = notebooks.RESULTS_DIR
    try:
        notebooks.RESULTS_DIR = results
        assert notebooks.main(["run", str(failing), str(good)]) == 1
    finally:
        notebooks.RESULTS_DIR = original
    out = capsys.readouterr().out
    failed = next(line for line in out.splitlines() if "FAILED (" in line)
    assert "RuntimeError: boom" in failed and "\x1b" not in out
    assert failing.read_bytes() == before, "a failing page is left as it was"
    assert sorted(p.name for p in results.iterdir()) == ["kneser_ney.json", "syn_page.json"]
    record = json.loads((results / "syn_page.json").read_text(encoding="utf-8"))
    assert record == {"settings": {"n": 1}, "metrics": {"ppl": 2.5}}
    sources = nbformat.read(good, as_version=4).metadata["course"]["sources"]
    assert sorted(sources["results"]) == ["kneser_ney.json", "syn_page.json"]
    assert notebooks.staleness(nbformat.read(good, as_version=4), "good.ipynb", results_dir=results) == []


def test_a_failed_write_leaves_the_page_as_it_was(tmp_path):
    """A full disk: the process may write at most 4 kB (RLIMIT_FSIZE), the page is bigger."""
    resource = pytest.importorskip("resource")
    path = tmp_path / "page.ipynb"
    shutil.copy(ROOT / "chapters" / "02_text_preprocessing.ipynb", path)
    before = path.read_bytes()
    assert len(before) > 4096
    script = (
        "import resource, signal, sys, nbformat\n"
        "from tools import notebooks\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nb.cells[0].source += ' changed'\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))\n"
        "notebooks.write_notebook(sys.argv[1], nb)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and re.search(r"OSError|File too large", proc.stderr), proc.stderr
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["page.ipynb"], "no temporary file left behind"
