"""The course's diagrams, drawn with matplotlib and saved as SVG in _static/diagrams/.

Text is stored as outlines (matplotlib's default svg.fonttype = "path"), so the Chinese labels
look the same in every browser without a web font. Sizes follow course_utils.plot: at most
MAX_WIDTH_IN wide with BASE_FONT_PT text, readable at a phone's 375 px.

    python -m tools.diagrams          # writes every diagram
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch  # noqa: E402

from course_utils import plot  # noqa: E402  (registers the Chinese font)

OUT = Path(__file__).resolve().parent.parent / "_static" / "diagrams"
BOX = dict(boxstyle="round,pad=0.02,rounding_size=0.08", linewidth=1.2)
GATE_COLOR, CELL_COLOR, STATE_COLOR = "#dbe9f6", "#fde2c8", "#e3f1df"


def arrow(ax, start, end, **kw):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", lw=1.2, color="#333", shrinkA=0, shrinkB=0, **kw))


def line(ax, points):
    xs, ys = zip(*points)
    ax.plot(xs, ys, color="#333", lw=1.2, solid_capstyle="round")


def box(ax, x, y, w, h, label, color):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, facecolor=color, edgecolor="#333", **BOX))
    ax.text(x, y, label, ha="center", va="center")


def op(ax, x, y, symbol):
    ax.add_patch(Circle((x, y), 0.22, facecolor="white", edgecolor="#333", lw=1.2))
    ax.text(x, y, symbol, ha="center", va="center")


def lstm_cell():
    """One LSTM step: three gates and the candidate read [H_{t-1}, X_t]; the memory cell runs
    along the top, is scaled by the forget gate, receives I ⊙ C~, and O ⊙ tanh(C) becomes H_t."""
    fig, ax = plt.subplots(figsize=(plot.MAX_WIDTH_IN, 3.6))
    ax.set(xlim=(0, 12.6), ylim=(0, 7.2), aspect="equal")
    ax.axis("off")
    top, gates_y, bus_y = 6.2, 3.4, 1.5
    xs = {"F": 2.6, "I": 4.9, "C": 7.2, "O": 9.5}
    # the memory cell
    ax.text(0.1, top, r"$\mathbf{C}_{t-1}$", va="center")
    line(ax, [(1.0, top), (xs["F"] - 0.22, top)])
    op(ax, xs["F"], top, "×")
    line(ax, [(xs["F"] + 0.22, top), (xs["C"] - 0.22, top)])
    op(ax, xs["C"], top, "+")
    arrow(ax, (xs["C"] + 0.22, top), (11.7, top))
    ax.text(11.8, top, r"$\mathbf{C}_t$", va="center")
    # gates and candidate, all reading H_{t-1} and X_t from the bus
    labels = {"F": "遗忘门\n$\\sigma$", "I": "输入门\n$\\sigma$", "C": "候选记忆元\ntanh", "O": "输出门\n$\\sigma$"}
    for k, x in xs.items():
        box(ax, x, gates_y, 2.15, 1.2, labels[k], CELL_COLOR if k == "C" else GATE_COLOR)
        arrow(ax, (x, bus_y), (x, gates_y - 0.62))
    ax.text(0.1, bus_y, r"$\mathbf{H}_{t-1}$", va="center")
    ax.text(0.1, 0.45, r"$\mathbf{X}_t$", va="center")
    line(ax, [(1.0, bus_y), (xs["O"], bus_y)])
    line(ax, [(1.0, 0.45), (1.6, 0.45), (1.6, bus_y)])
    # F scales the old cell; I ⊙ C~ is added
    arrow(ax, (xs["F"], gates_y + 0.62), (xs["F"], top - 0.22))
    op(ax, 6.05, 5.0, "×")
    line(ax, [(xs["I"], gates_y + 0.62), (xs["I"], 5.0), (6.05 - 0.22, 5.0)])
    line(ax, [(xs["C"], gates_y + 0.62), (xs["C"], 4.5), (6.05, 4.5), (6.05, 5.0 - 0.22)])
    line(ax, [(6.05, 5.0 + 0.22), (6.05, 5.55), (xs["C"], 5.55)])
    arrow(ax, (xs["C"], 5.55), (xs["C"], top - 0.22))
    # H_t = O ⊙ tanh(C_t)
    box(ax, 10.9, 5.0, 0.95, 0.6, "tanh", STATE_COLOR)
    line(ax, [(10.9, top), (10.9, 5.3)])
    op(ax, 10.9, 3.4, "×")
    arrow(ax, (10.9, 4.7), (10.9, 3.62))
    arrow(ax, (xs["O"] + 1.08, gates_y), (10.9 - 0.22, 3.4))
    arrow(ax, (10.9, 3.18), (10.9, 0.95))
    ax.text(11.1, 0.95, r"$\mathbf{H}_t$", va="center")
    return fig


DIAGRAMS = {"lstm_cell": lstm_cell}


def main(argv):
    OUT.mkdir(parents=True, exist_ok=True)
    for name in argv or list(DIAGRAMS):
        fig = DIAGRAMS[name]()
        # no date or random ids in the file: a re-run gives the same bytes
        fig.savefig(OUT / f"{name}.svg", format="svg", bbox_inches="tight",
                    metadata={"Date": None, "Creator": None})
        plt.close(fig)
        print(OUT / f"{name}.svg")


if __name__ == "__main__":
    main(sys.argv[1:])
