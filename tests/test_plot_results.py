import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import plot, results, train  # noqa: E402


def test_chinese_labels_render_without_missing_glyphs(tmp_path):
    assert plot.FONT_FILE.is_file() and plot.FONT_NAME == "Noto Sans SC"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot.plot([1, 2, 3], [[1, 4, 9], [2, 3, 4]], xlabel="迭代周期", ylabel="困惑度",
                       legend=["随机采样", "顺序分区"], title="循环神经网络 -1", yscale="log")
        ax.figure.savefig(tmp_path / "fig.png")
        plt.close(ax.figure)
    glyph = [w for w in caught if "Glyph" in str(w.message) or "missing from font" in str(w.message)]
    assert glyph == []


def test_plot_accepts_single_series_and_index_x():
    ax = plot.plot([3, 1, 2])
    assert len(ax.lines) == 1 and list(ax.lines[0].get_xdata()) == [0, 1, 2]
    ax2 = plot.plot([[1, 2], [3, 4]])
    assert len(ax2.lines) == 2
    plt.close("all")


def test_plot_history():
    h = train.History(epochs=[1, 2], perplexity=[10.0, 5.0], tokens_per_sec=[1.0, 1.0])
    ax = plot.plot_history([h, h], ["甲", "乙"])
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    assert list(ax.lines[0].get_ydata()) == [10.0, 5.0]
    plt.close("all")


@pytest.fixture
def staging(tmp_path, monkeypatch):
    """Saves and loads as inside `make full`: a staging folder and a log of the reads."""
    folder = tmp_path / "staging"
    monkeypatch.setenv("COURSE_RESULTS_STAGING", str(folder))
    monkeypatch.setenv("COURSE_RESULTS_READS", str(tmp_path / "reads.log"))
    return folder


def test_results_are_written_only_by_full_runs_and_read_back(staging, tmp_path):
    assert results.save("ch9", settings={"lr": 0.1}, metrics={"ppl": 1.5}, full=False) is None
    assert not staging.exists()  # a quick run writes nothing
    assert results.save("ch9", settings={"lr": 0.1, "note": "测试"}, metrics={"ppl": 1.5, "runs": [1, 2]},
                        full=True) is None  # nothing for a page cell to display
    path = staging / "ch9.json"
    assert results.load("ch9") == {"settings": {"lr": 0.1, "note": "测试"}, "metrics": {"ppl": 1.5, "runs": [1, 2]}}
    assert json.loads(path.read_text(encoding="utf-8"))["settings"]["note"] == "测试"
    assert [p.name for p in staging.iterdir()] == ["ch9.json"]  # no .part left
    results.load("kneser_ney")  # shipped with the package
    assert (tmp_path / "reads.log").read_text().split() == ["ch9", "kneser_ney"]
    with pytest.raises(FileNotFoundError, match=r"no results ch10\.json .*make full"):
        results.load("ch10")


def test_shipped_results_have_one_shape_and_ascii_keys():
    import importlib.resources
    shipped = sorted(p.name for p in (importlib.resources.files("course_utils") / "full_results").iterdir()
                     if p.name.endswith(".json"))
    assert len(shipped) >= 5
    for file in shipped:
        record = results.load(file[:-5])
        assert set(record) == {"settings", "metrics"}
        results._check_value(record, file)  # ASCII keys, finite numbers, JSON types


def test_outside_make_full_a_full_run_writes_beside_the_page_not_into_the_package(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_RESULTS_STAGING", raising=False)
    monkeypatch.delenv("COURSE_RESULTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    package = Path(results.__file__).parent / "full_results"
    before = {p.name: p.read_bytes() for p in package.iterdir() if p.is_file()}
    assert results.save("kneser_ney", settings={}, metrics={"ppl": 1.0}, full=True) is None
    path = Path("course_results") / "kneser_ney.json"
    assert path.is_file()
    assert "course_results" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in package.iterdir() if p.is_file()} == before
    assert results.load("kneser_ney")["metrics"] != {"ppl": 1.0}  # pages read the course's own
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path / "mine"))
    results.save("x", settings={}, metrics={}, full=True)
    assert (tmp_path / "mine" / "x.json").is_file()


@pytest.mark.parametrize("settings, metrics, kind, message", [
    ({}, {"ppl": torch.tensor(1.5)}, TypeError, r"metrics of 'r'\['ppl'\] is a torch.Tensor.*\.item\(\)"),
    ({}, {"ppl": np.float32(1.5)}, TypeError, r"numpy.float32.*float\(\)"),
    ({}, {"runs": [1.0, np.int64(2)]}, TypeError, r"\['runs'\]\[1\] is a numpy.int64"),
    ({}, {"ppl": float("nan")}, ValueError, "NaN and infinity"),
    ({}, {"ppl": [float("inf")]}, ValueError, "NaN and infinity"),
    ({"歌词前 20,000 字": 1}, {}, ValueError, "keys must be printable ASCII"),
    ({1: 2}, {}, ValueError, "keys must be printable ASCII"),
    ([("lr", 1)], {}, TypeError, "settings of 'r' must be a dict"),
    ({}, None, TypeError, "metrics of 'r' must be a dict"),
    ({}, {"f": print}, TypeError, "JSON cannot hold"),
])
def test_save_refuses_what_json_cannot_hold_in_quick_mode_too(staging, settings, metrics, kind, message):
    for full in (False, True):
        with pytest.raises(kind, match=message):
            results.save("r", settings=settings, metrics=metrics, full=full)
    assert not staging.exists() or list(staging.iterdir()) == []


@pytest.mark.parametrize("name", ["", "Chapter9", "ngram baseline", "../x", "结果", 3])
def test_save_and_load_refuse_names_that_are_not_plain_file_names(staging, name):
    with pytest.raises(ValueError, match="lower-case ASCII"):
        results.save(name, settings={}, metrics={}, full=True)
    with pytest.raises(ValueError, match="lower-case ASCII"):
        results.load(name)


def test_save_refuses_a_full_that_is_not_a_bool(staging):
    with pytest.raises(TypeError, match="full must be True or False"):
        results.save("r", settings={}, metrics={}, full="no")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_saved_files_follow_the_umask(staging, umask, mode):
    old = os.umask(umask)
    try:
        results.save("r", settings={}, metrics={}, full=True)
    finally:
        os.umask(old)
    assert (staging / "r.json").stat().st_mode & 0o777 == mode


def test_a_failed_write_leaves_no_part_and_the_old_file(staging, monkeypatch):
    results.save("r", settings={}, metrics={"v": 1}, full=True)

    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        results.save("r", settings={}, metrics={"v": 2}, full=True)
    assert [p.name for p in staging.iterdir()] == ["r.json"]
    assert results.load("r")["metrics"] == {"v": 1}


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_killed_writer_leaves_the_old_file_and_its_part_is_cleaned_by_the_next_save(staging):
    results.save("r", settings={}, metrics={"v": 1}, full=True)
    killed = subprocess.run([sys.executable, "-c", (
        "import os, signal\n"
        "from course_utils import results\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)  # killed just before the rename\n"
        "results.save('r', settings={}, metrics={'v': 2}, full=True)\n")],
        env={**os.environ}, cwd=Path(results.__file__).parent.parent, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    parts = [p.name for p in staging.iterdir() if p.name.endswith(".part")]
    assert len(parts) == 1 and results.load("r")["metrics"] == {"v": 1}
    results.save("other", settings={}, metrics={}, full=True)
    assert sorted(p.name for p in staging.iterdir()) == ["other.json", "r.json"]


@pytest.mark.parametrize("content", ["", '{"settings": {}, "metr', "null"])
def test_truncated_or_empty_results_name_the_file(staging, content):
    staging.mkdir()
    (staging / "broken.json").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json .*(not valid JSON|must hold)"):
        results.load("broken")


def test_a_record_of_another_shape_names_the_file(staging):
    staging.mkdir()
    (staging / "old.json").write_text('{"best_epoch": 3}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"old\.json .*\{'settings', 'metrics'\}.*\['best_epoch'\]"):
        results.load("old")


def test_seed_runs_round_trip_and_reject_a_missing_seed(staging):
    settings = {"train_chars": 20000, "seeds": [42, 43]}
    runs = {"GRU": [(1, 400.0, 500.0, 0.5), (2, 410.0, 520.0, 0.6)]}
    results.save_seed_runs("cmp", settings=settings, runs=runs, parameters={"GRU": 123}, full=False)
    assert not staging.exists()
    results.save_seed_runs("cmp", settings=settings, runs=runs, parameters={"GRU": 123}, full=True)
    record = results.load("cmp")
    assert record["settings"] == settings
    model = record["metrics"]["models"]["GRU"]
    assert model["parameters"] == 123 and isinstance(model["runs"][0]["best_epoch"], int)
    assert model["runs"][1] == {"best_epoch": 2, "valid_perplexity": 410.0,
                                "test_perplexity": 520.0, "seconds_per_epoch": 0.6}
    with pytest.raises(ValueError, match="one .* per seed"):
        results.save_seed_runs("cmp", settings=settings, runs={"GRU": runs["GRU"][:1]},
                               parameters={"GRU": 123}, full=True)
    with pytest.raises(ValueError, match="same models"):
        results.save_seed_runs("cmp", settings=settings, runs=runs, parameters={"LSTM": 1}, full=True)
    with pytest.raises(ValueError, match="train_chars"):
        results.save_seed_runs("cmp", settings={"seeds": [42, 43]}, runs=runs, parameters={"GRU": 1}, full=True)
    with pytest.raises(ValueError, match="keys must be printable ASCII"):
        results.save_seed_runs("cmp", settings=settings, runs={"GRU 1 层": runs["GRU"]},
                               parameters={"GRU 1 层": 1}, full=True)


def test_comparable_names_the_setting_and_each_file():
    a = {"settings": {"train_chars": 20000, "seeds": [42, 43, 44], "lr": 0.01}}
    b = {"settings": {"train_chars": 20000, "seeds": [42, 43, 44], "lr": 0.003}}
    assert results.comparable({"a": a, "b": b}, ["train_chars", "seeds"]) == \
        {"train_chars": 20000, "seeds": [42, 43, 44]}
    c = {"settings": {"train_chars": 10000, "seeds": [42, 43, 44]}}
    with pytest.raises(ValueError, match=r"'train_chars' differs: a\.json has 20000, c\.json has 10000"):
        results.comparable({"a": a, "c": c}, ["seeds", "train_chars"])
    with pytest.raises(ValueError, match=r"c\.json records no setting 'lr'"):
        results.comparable({"a": a, "c": c}, ["lr"])


def displayed(monkeypatch, module, attribute, call):
    """What call() hands to IPython's display, as (data, metadata) pairs."""
    shown = []
    monkeypatch.setattr(module, attribute, lambda data, raw, metadata: shown.append((data, metadata)))
    call()
    return shown


@pytest.mark.parametrize("value", [504.6491915686969, 17, 0.25, "发散 (> 1e30)"])
def test_glue_stores_what_myst_nb_glue_stores_and_the_site_pastes_it(monkeypatch, value):
    import IPython.display
    import nbformat
    from myst_nb.core.variables import format_plain_text
    from myst_nb.ext import glue as myst_glue
    ours = displayed(monkeypatch, IPython.display, "display", lambda: results.glue("ppl", value))
    theirs = displayed(monkeypatch, myst_glue, "ipy_display",
                       lambda: myst_glue.glue("ppl", value, display=False))
    assert ours == theirs and len(ours) == 1
    data, metadata = ours[0]
    cell = nbformat.from_dict(
        {"outputs": [{"output_type": "display_data", "data": data, "metadata": metadata}]})
    [(key, output)] = myst_glue.extract_glue_data_cell(cell)
    assert key == "ppl" and cell["outputs"] == []  # stored for the prose, not shown on the page
    if isinstance(value, str):
        assert format_plain_text(output["data"]["text/plain"], "") == value
    else:
        assert format_plain_text(output["data"]["text/plain"], ".1f") == f"{value:.1f}"


@pytest.mark.parametrize("name, value, message", [
    ("test ppl", 1.0, "Python identifier"), ("ppl:1", 1.0, "Python identifier"), (3, 1.0, "Python identifier"),
    ("ppl", float("nan"), "diverged"), ("ppl", float("inf"), "diverged"),
    ("ppl", [1.0], "number or a string"), ("ppl", True, "number or a string")])
def test_glue_rejects_names_the_role_cannot_read_and_values_the_prose_cannot_quote(name, value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        results.glue(name, value)


def test_plot_seeds_draws_one_line_per_seed_one_colour_and_one_legend_entry_per_group():
    def history(scale):
        h = train.History()
        for epoch in (1, 2, 3):
            h.record(epoch, scale * 100 / epoch, 1000.0, 1.0, 0.1)
        return h
    ax = plot.plot_seeds({"甲": [history(1), history(2), history(3)], "乙": [history(4), history(5)]})
    lines = ax.get_lines()
    assert len(lines) == 5
    assert len({line.get_color() for line in lines[:3]}) == 1 and lines[3].get_color() != lines[0].get_color()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["甲", "乙"]
    assert ax.get_yscale() == "log"
    plt.close("all")


def test_glue_turns_numpy_numbers_and_one_element_tensors_into_python_numbers(monkeypatch):
    """A NumPy float's repr is 'np.float64(...)', which the site cannot format with '.1f'."""
    import IPython.display
    from myst_nb.core.variables import format_plain_text
    for value in (np.float64(2.345), np.int64(7), torch.tensor(2.345)):
        [(data, _)] = displayed(monkeypatch, IPython.display, "display", lambda: results.glue("v", value))
        text = data[results.GLUE_PREFIX + "text/plain"]
        assert "np." not in text and "tensor" not in text
        assert format_plain_text(text, ".1f") in ("2.3", "7.0")
