"""The tooling outside course_utils: the full-run executor (make full), the thread policy, the
benchmark (make bench) and the benchmark page's tables, generated from the measurements."""
import importlib.util
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from tools import notebooks, site_measure, threads

ROOT = Path(__file__).resolve().parent.parent


def load_script(name):
    """A script of bench/ (not a package) imported as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_notebook(path, source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_run_records_metadata_and_goes_on_after_a_failure(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_FULL", raising=False)
    for name in (*threads.VARIABLES, threads.MARK):
        monkeypatch.delenv(name, raising=False)
    good = write_notebook(tmp_path / "good.ipynb",
                          "import os\nprint(os.environ['COURSE_FULL'], os.environ['OMP_NUM_THREADS'],\n"
                          "      os.environ['GOMP_SPINCOUNT'])")
    bad = write_notebook(tmp_path / "bad.ipynb", "1 / 0")
    bad_before = bad.read_bytes()
    assert notebooks.main(["run", str(bad), str(good)]) == 1
    out = capsys.readouterr().out
    assert "bad.ipynb: FAILED (CellExecutionError" in out and "ZeroDivisionError" in out
    assert "good.ipynb: " in out and "total: " in out and "for 1 notebooks; FAILED: " in out
    assert bad.read_bytes() == bad_before  # a failed run does not overwrite the notebook
    nb = nbformat.read(good, as_version=4)
    meta = nb.metadata["course"]
    assert meta["mode"] == "full" and meta["device"] in ("cpu", "cuda")
    assert meta["wall_time_s"] > 0 and meta["torch"]
    cores = str(os.cpu_count())
    assert nb.cells[0].outputs[0]["text"] == f"1 {cores} 1000\n"  # what the kernel saw
    assert meta["threads"] == f"OMP_NUM_THREADS={cores} GOMP_SPINCOUNT=1000"
    # The executor leaves the caller's environment as it found it.
    assert not {"COURSE_FULL", threads.MARK, *threads.VARIABLES} & set(os.environ)


def test_time_runs_quick_mode_and_writes_nothing(tmp_path, capsys):
    good = write_notebook(tmp_path / "good.ipynb", "import os\nprint(os.environ['COURSE_FULL'])")
    before = good.read_bytes()
    assert notebooks.main(["time", str(good)]) == 0
    out = capsys.readouterr().out
    assert "(quick, " in out and "total: " in out
    assert good.read_bytes() == before


def test_benchmark_runs_both_implementations_on_the_same_batches(tmp_path):
    bench = load_script("bench")
    out, table = tmp_path / "r.json", tmp_path / "r.md"
    assert bench.main(["--epochs", "2", "--hiddens", "16", "--max-tokens", "1200", "--threads", "1",
                       "--out", str(out), "--table", str(table)]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    rows = results["rows"]
    assert [(r["model"], r["corpus"]) for r in rows] == \
        [(m, c) for c in bench.CORPORA for m in bench.MODELS]
    assert rows[0]["vocab"] == 28
    for r in rows:
        assert r["ratio"] == pytest.approx(r["course_utils_tok_s"] / r["d2l_tok_s"])
        # Same weights, same minibatches, same maths: the same training perplexity.
        assert r["course_utils_ppl"] == pytest.approx(r["d2l_ppl"], rel=1e-3), r["model"]
        assert len(r["course_utils_epoch_s"]) == len(r["d2l_epoch_s"]) == 1
    assert results["peak_rss_mb"] > 0 and results["machine"]["cpu_count"] >= 1
    assert table.read_text(encoding="utf-8") == bench.render(results)
    with pytest.raises(ValueError, match="--epochs must be >= 2"):
        bench.main(["--epochs", "1", "--out", str(out), "--table", str(table)])


def test_render_puts_the_ratio_last():
    bench = load_script("bench")
    results = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    header, _, *rest = bench.render(results).splitlines()
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns[-3:] == ["course_utils tok/s", "d2l tok/s", "course_utils / d2l"]
    for r in results["rows"]:
        assert any(line.startswith(f"| {r['model']} | {r['corpus']} |") and
                   line.endswith(f"| {r['ratio']:.2f} |") for line in rest)


def test_benchmark_page_shows_the_table_generated_from_the_results():
    bench = load_script("bench")
    results = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    committed = (ROOT / "bench" / "results.md").read_text(encoding="utf-8")
    assert committed == bench.render(results), "run `python bench/bench.py --render`"
    page = (ROOT / "benchmark.md").read_text(encoding="utf-8")
    assert "bench/results.md" in page and "{include}" in page


def test_ci_budget_sums_cell_times_per_notebook_and_module(tmp_path):
    ci_budget = load_script("ci_budget")
    xml = tmp_path / "junit.xml"
    xml.write_text(
        '<testsuites><testsuite>'
        '<testcase classname="chapters.05_rnn_scratch.ipynb" name="Cell 0" time="2.5"/>'
        '<testcase classname="chapters.05_rnn_scratch.ipynb" name="Cell 1" time="1.0"/>'
        '<testcase classname="chapters.01_sequence_models.ipynb" name="Cell 0" time="1.5"/>'
        '<testcase classname="tests.test_train" name="test_a" time="0.25"/>'
        '<testcase classname="tests.test_train.TestX" name="test_b" time="0.5"/>'
        '</testsuite></testsuites>', encoding="utf-8")
    assert ci_budget.per_file_seconds(xml) == [("chapters.05_rnn_scratch.ipynb", 3.5),
                                               ("chapters.01_sequence_models.ipynb", 1.5),
                                               ("tests.test_train", 0.75)]


def test_timing_table_lists_each_notebook_and_the_total(tmp_path):
    a = write_notebook(tmp_path / "01_a.ipynb", "1")
    nb = nbformat.read(a, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# 第一章\n\n正文"))
    nb.metadata["course"] = {"mode": "full", "device": "cpu", "cpu_count": 2, "torch": "2.13.0+cpu",
                             "threads": "OMP_NUM_THREADS=2 GOMP_SPINCOUNT=1000", "wall_time_s": 61.5}
    nbformat.write(nb, a)
    b = write_notebook(tmp_path / "02_b.ipynb", "2")
    nb = nbformat.read(b, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# 第二章"))
    nb.metadata["course"] = {"mode": "full", "wall_time_s": 58.5}
    nbformat.write(nb, b)
    lines = notebooks.timing_table([a, b]).splitlines()
    assert lines[2] == ("| [第一章](chapters/01_a.ipynb) | 61.5 | full，cpu，2 核，torch 2.13.0+cpu，"
                        "OMP_NUM_THREADS=2 GOMP_SPINCOUNT=1000 |")
    assert lines[3] == "| [第二章](chapters/02_b.ipynb) | 58.5 | full |"
    assert lines[4] == "| **合计** | **120.0**（2.0 分钟） | |"


def test_benchmark_page_shows_the_full_run_times_stored_in_the_notebooks():
    chapters = sorted((ROOT / "chapters").glob("*.ipynb"))
    committed = (ROOT / "bench" / "full_runs.md").read_text(encoding="utf-8")
    assert committed == notebooks.timing_table(chapters), "run `make full` (or the table command)"
    assert "{include} bench/full_runs.md" in (ROOT / "benchmark.md").read_text(encoding="utf-8")


def test_openmp_measure_gives_each_process_only_its_own_setting(monkeypatch):
    openmp_wait = load_script("openmp_wait")
    # A stand-in for the training process: report what it was started with.
    monkeypatch.setattr(openmp_wait, "TRAIN", "import json, os, sys\nprint(json.dumps("
                        "[sys.argv[1], os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'),"
                        " os.environ.get('OMP_NUM_THREADS')]))")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # the caller's own setting must not leak in
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert openmp_wait.measure({"GOMP_SPINCOUNT": "7"}, 3, busy=True) == ["3", None, "7", None]
    assert openmp_wait.measure({"OMP_NUM_THREADS": "1"}, 1, busy=False) == ["1", None, None, "1"]


def test_openmp_page_table_is_generated_from_its_measurements():
    openmp_wait = load_script("openmp_wait")
    results = json.loads((ROOT / "bench" / "openmp_wait.json").read_text(encoding="utf-8"))
    assert [r["setting"] for r in results["rows"]] == list(openmp_wait.SETTINGS)
    for r in results["rows"]:
        assert len(r["idle"]) == len(r["busy"]) == results["epochs"] * results["repeats"]
    committed = (ROOT / "bench" / "openmp_wait.md").read_text(encoding="utf-8")
    assert committed == openmp_wait.render(results), "run `python bench/openmp_wait.py --render`"
    assert "{include} bench/openmp_wait.md" in (ROOT / "benchmark.md").read_text(encoding="utf-8")


def test_thread_policy_one_place_for_every_runner():
    # one process at a time gets every core and a short spin; several share the cores
    assert threads.environment(1, cores=2) == {"OMP_NUM_THREADS": "2", "GOMP_SPINCOUNT": "1000"}
    assert threads.environment(2, cores=2)["OMP_NUM_THREADS"] == "1"
    assert threads.environment(4, cores=2)["OMP_NUM_THREADS"] == "1"
    with pytest.raises(ValueError, match="processes"):
        threads.environment(0)
    # a user's own choice is kept; the policy's own setting is replaced by a child's
    env = {"OMP_WAIT_POLICY": "PASSIVE"}
    threads.apply(2, env)
    assert env == {"OMP_WAIT_POLICY": "PASSIVE"}
    env = {}
    threads.apply(1, env)  # e.g. pytest's controller
    threads.apply(2, env)  # then one of its two workers
    assert env["OMP_NUM_THREADS"] == str(max(1, (os.cpu_count() or 1) // 2))


def test_pytest_workers_run_with_the_policy():
    """This very process is a test process: the root conftest.py applied the policy."""
    if os.environ.get(threads.MARK) != "tools.threads":
        pytest.skip("the thread settings were chosen by the user, who keeps them")
    expected = threads.environment(threads.pytest_workers())
    assert {k: os.environ.get(k) for k in expected} == expected


def test_benchmark_page_shows_the_page_weight_table_generated_from_the_measurements():
    page_weight = load_script("page_weight")
    rows = json.loads((ROOT / "bench" / "page_weight.json").read_text(encoding="utf-8"))
    assert set(rows) == set(page_weight.toc_pages().values()), "measure every page of the site"
    committed = (ROOT / "bench" / "page_weight.md").read_text(encoding="utf-8")
    assert committed == site_measure.render(rows), "run `python bench/page_weight.py --render`"
    assert "bench/page_weight.md" in (ROOT / "benchmark.md").read_text(encoding="utf-8")


def test_pdf_pattern_finds_text_as_a_pdf_gives_it_back():
    """A printed paragraph is found in the PDF's text although a Han character came back as a
    CJK radical (⻓ for 长) and a formula's superscript digit landed between two characters."""
    pattern = site_measure.pdf_pattern("正交矩阵不改变长度，所")
    assert re.search(pattern, "就是Whh=γQ,正交矩阵6不改变⻓度,所以梯度")
    assert not re.search(pattern, "正交矩阵不改变宽度,所以")
