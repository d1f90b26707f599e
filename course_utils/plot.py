"""Matplotlib 的设置（中文字体、清晰且在手机上可读的图）与画曲线的小工具。"""
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib import pyplot as plt

import pylopdf_fonts_zh_cn

FONT_FILE = Path(pylopdf_fonts_zh_cn.__file__).with_name("NotoSansSC-Regular.otf")


# Figures must stay readable on a 375 px phone, where the site shows them at the screen's
# width: text of BASE_FONT_PT points at DPI dots per inch shrinks by 375 / (figure width in
# pixels), so a figure at most MAX_WIDTH_IN inches wide keeps every label at 9 px or more
# (tests/test_site.py measures it; tests/test_lesson_code.py keeps chapters to these sizes).
BASE_FONT_PT = 11
DPI = 100
MAX_WIDTH_IN = 6.3


def setup():
    """Register Noto Sans SC (shipped by a PyPI package, so no system font is needed)."""
    font_manager.fontManager.addfont(str(FONT_FILE))
    name = font_manager.FontProperties(fname=str(FONT_FILE)).get_name()
    matplotlib.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [name, "DejaVu Sans"],
        "font.size": BASE_FONT_PT,
        "axes.unicode_minus": False,  # the CJK font has no U+2212 minus sign
        "figure.figsize": (5.5, 3.4),
        "figure.dpi": DPI,
        "savefig.bbox": "tight",
        "axes.grid": True,
        "grid.alpha": 0.3,
    })
    try:  # inside Jupyter: high-DPI PNGs stay sharp on phones and small enough to store
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("retina")
    except ImportError:
        pass
    return name


FONT_NAME = setup()


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, title=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), figsize=None, axes=None):
    """Plot one or more series. X (and Y) may be a list or a list of lists; with Y=None the
    series in X are plotted against their index."""
    def is_multi(v):
        return hasattr(v, "__len__") and len(v) > 0 and hasattr(v[0], "__len__")

    if Y is None:
        X, Y = [[]] * (len(X) if is_multi(X) else 1), X
    if not is_multi(Y):
        Y = [Y]
    if not is_multi(X):
        X = [X] * len(Y)
    if axes is None:
        _, axes = plt.subplots(figsize=figsize)
    for x, y, fmt in zip(X, Y, list(fmts) * len(Y)):
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    if xlabel:
        axes.set_xlabel(xlabel)
    if ylabel:
        axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    if xlim:
        axes.set_xlim(xlim)
    if ylim:
        axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    return axes


def plot_history(histories, labels, title="训练困惑度", yscale="log"):
    """Perplexity per epoch of one or more training runs (train.History objects)."""
    return plot([h.epochs for h in histories], [h.perplexity for h in histories],
                xlabel="迭代周期", ylabel="困惑度", legend=labels, title=title,
                yscale=yscale)


def plot_seeds(runs, ylabel="训练困惑度", title=None, figsize=None):
    """几组训练，每组是同一设置在几个随机种子下的训练记录（名字 -> [History, ...]）：
    每组一种颜色，每个种子一条线，只在图例里写一次名字。"""
    _, axes = plt.subplots(figsize=figsize)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for color, (name, histories) in zip(colors, runs.items()):
        for i, h in enumerate(histories):
            axes.plot(h.epochs, h.perplexity, color=color, label=name if i == 0 else None)
    axes.set(xlabel="迭代周期", ylabel=ylabel, yscale="log", title=title)
    axes.legend()
    return axes
