import json
import warnings

import matplotlib
matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402

from course_utils import plot, results, show, train  # noqa: E402


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
    plt.close("all")


def test_results_roundtrip_and_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    path = results.save("ch9", {"perplexity": 1.5, "名字": "测试"}, mode="quick")
    assert json.loads(path.read_text(encoding="utf-8"))["名字"] == "测试"
    assert results.load("ch9", mode="quick") == {"perplexity": 1.5, "名字": "测试"}
    assert not list(tmp_path.rglob("*.part"))
    try:
        results.load("ch9", mode="full")
    except FileNotFoundError as err:
        assert "make full" in str(err)
    else:
        raise AssertionError("missing results must raise")


def test_show_source_is_a_python_code_block():
    md = show.show_source(train.grad_clipping)
    assert md.data.startswith("```python\ndef grad_clipping(") and md.data.endswith("```")
