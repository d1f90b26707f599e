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
