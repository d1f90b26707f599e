import json
import warnings

import matplotlib
matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402
import pytest  # noqa: E402

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


def test_results_are_written_only_by_full_runs_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    results.save("ch9", {"perplexity": 1.5}, full=False)
    assert list(tmp_path.iterdir()) == []  # a quick run leaves the committed results alone
    results.save("ch9", {"perplexity": 1.5, "名字": "测试"}, full=True)
    assert results.load("ch9") == {"perplexity": 1.5, "名字": "测试"}
    assert json.loads((tmp_path / "ch9.json").read_text(encoding="utf-8"))["名字"] == "测试"
    assert not list(tmp_path.glob("*.part"))
    with pytest.raises(FileNotFoundError, match="make full"):
        results.load("ch10")


def test_seed_runs_round_trip_and_reject_a_missing_seed(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    settings = {"train_chars": 20000, "seeds": [42, 43]}
    runs = {"GRU": [(1, 400.0, 500.0, 0.5), (2, 410.0, 520.0, 0.6)]}
    results.save_seed_runs("cmp", settings=settings, runs=runs, parameters={"GRU": 123}, full=False)
    assert list(tmp_path.iterdir()) == []
    results.save_seed_runs("cmp", settings=settings, runs=runs, parameters={"GRU": 123}, full=True)
    record = results.load_seed_runs("cmp")
    assert record["settings"] == settings
    assert record["models"]["GRU"]["parameters"] == 123
    assert record["models"]["GRU"]["runs"][1] == {"best_epoch": 2, "valid_perplexity": 410.0,
                                                  "test_perplexity": 520.0, "seconds_per_epoch": 0.6}
    with pytest.raises(ValueError, match="one .* per seed"):
        results.save_seed_runs("cmp", settings=settings, runs={"GRU": runs["GRU"][:1]},
                               parameters={"GRU": 123}, full=True)
    with pytest.raises(ValueError, match="same models"):
        results.save_seed_runs("cmp", settings=settings, runs=runs, parameters={"LSTM": 1}, full=True)
    with pytest.raises(ValueError, match="train_chars"):
        results.save_seed_runs("cmp", settings={"seeds": [42, 43]}, runs=runs, parameters={"GRU": 1}, full=True)
    results.save("plain", {"perplexity": 1.5}, full=True)
    with pytest.raises(ValueError, match="save_seed_runs"):
        results.load_seed_runs("plain")
    assert results.load_seed_runs("cmp")["models"]["GRU"]["runs"][0]["test_perplexity"] == 500.0
    assert isinstance(record["models"]["GRU"]["runs"][0]["best_epoch"], int)


def test_comparable_names_the_setting_that_differs():
    a = {"settings": {"train_chars": 20000, "seeds": [42, 43, 44], "lr": 0.01}}
    b = {"settings": {"train_chars": 20000, "seeds": [42, 43, 44], "lr": 0.003}}
    assert results.comparable({"a": a, "b": b}, ["train_chars", "seeds"]) == \
        {"train_chars": 20000, "seeds": [42, 43, 44]}
    c = {"settings": {"train_chars": 10000, "seeds": [42, 43, 44]}}
    with pytest.raises(ValueError, match="'train_chars' differs.*10000"):
        results.comparable({"a": a, "c": c}, ["seeds", "train_chars"])


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
