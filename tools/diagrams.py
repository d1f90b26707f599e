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

matplotlib.rcParams["svg.hashsalt"] = "course"  # fixed ids inside the SVG: same bytes on every run

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


def frame(width, height, figsize_h):
    fig, ax = plt.subplots(figsize=(plot.MAX_WIDTH_IN, figsize_h))
    ax.set(xlim=(0, width), ylim=(0, height), aspect="equal")
    ax.axis("off")
    return fig, ax


def rnn_unrolled():
    """An RNN unrolled over three time steps: the same weights at every step, the hidden
    state handed from one step to the next."""
    fig, ax = frame(12.6, 6.4, 3.2)
    xs = {"t-1": 2.6, "t": 6.3, "t+1": 10.0}
    for k, x in xs.items():
        box(ax, x, 0.8, 1.5, 0.8, f"$\\mathbf{{X}}_{{{k}}}$", "white")
        box(ax, x, 3.2, 1.9, 1.0, f"$\\mathbf{{H}}_{{{k}}}$", STATE_COLOR)
        box(ax, x, 5.6, 1.5, 0.8, f"$\\mathbf{{O}}_{{{k}}}$", "white")
        arrow(ax, (x, 1.2), (x, 2.7))
        ax.text(x + 0.12, 1.95, "$\\mathbf{W}_{xh}$", va="center")
        arrow(ax, (x, 3.7), (x, 5.2))
        ax.text(x + 0.12, 4.45, "$\\mathbf{W}_{hq}$", va="center")
    arrow(ax, (0.2, 3.2), (xs["t-1"] - 0.95, 3.2))
    ax.text(0.2, 3.45, "……", va="bottom")
    for a, b in [("t-1", "t"), ("t", "t+1")]:
        arrow(ax, (xs[a] + 0.95, 3.2), (xs[b] - 0.95, 3.2))
        ax.text((xs[a] + xs[b]) / 2, 3.35, "$\\mathbf{W}_{hh}$", ha="center", va="bottom")
    arrow(ax, (xs["t+1"] + 0.95, 3.2), (12.4, 3.2))
    return fig


def rnn_concat():
    """One RNN step as a fully connected layer on the concatenation [X_t, H_{t-1}]."""
    fig, ax = frame(12.6, 4.4, 2.3)
    box(ax, 1.1, 3.3, 1.7, 0.8, "$\\mathbf{X}_t$", "white")
    box(ax, 1.1, 1.1, 1.7, 0.8, "$\\mathbf{H}_{t-1}$", STATE_COLOR)
    box(ax, 3.9, 2.2, 1.5, 2.6, "拼接", "white")
    line(ax, [(1.95, 3.3), (3.15, 3.3)])
    line(ax, [(1.95, 1.1), (3.15, 1.1)])
    box(ax, 7.0, 2.2, 2.9, 1.4, "全连接层\n激活函数 tanh", GATE_COLOR)
    arrow(ax, (4.65, 2.2), (5.55, 2.2))
    box(ax, 10.1, 2.2, 1.5, 0.9, "$\\mathbf{H}_t$", STATE_COLOR)
    arrow(ax, (8.45, 2.2), (9.35, 2.2))
    arrow(ax, (10.85, 2.2), (12.4, 2.2))
    ax.text(11.6, 2.4, "下一步", ha="center", va="bottom")
    return fig


def char_lm():
    """The character-level language model on the start of a lyrics line: the label of each
    step is the next character."""
    fig, ax = frame(12.6, 6.0, 3.0)
    inputs, labels = "想要有直升", "要有直升机"
    for k, (x_char, y_char) in enumerate(zip(inputs, labels)):
        x = 1.4 + 2.45 * k
        box(ax, x, 0.7, 1.1, 0.8, x_char, "white")
        box(ax, x, 3.0, 1.5, 0.9, f"$\\mathbf{{H}}_{k + 1}$", STATE_COLOR)
        box(ax, x, 5.3, 1.1, 0.8, y_char, CELL_COLOR)
        arrow(ax, (x, 1.1), (x, 2.55))
        arrow(ax, (x, 3.45), (x, 4.9))
        if k:
            arrow(ax, (x - 2.45 + 0.75, 3.0), (x - 0.75, 3.0))
    ax.text(0.05, 0.7, "输入", ha="left", va="center", rotation=90)
    ax.text(0.05, 5.3, "标签", ha="left", va="center", rotation=90)
    return fig


def partitioning():
    """Random sampling and sequential partitioning of one text of 35 tokens into minibatches
    of 2 subsequences of 5 tokens: the offset, and which minibatch each piece goes to."""
    fig, ax = frame(12.6, 4.4, 2.3)
    cell, x0 = 0.29, 2.35
    colors = ["#9ecae1", "#fdae6b", "#a1d99b"]

    def bar(y, pieces, label):
        ax.text(0.05, y, label, va="center")
        for start, length, batch in pieces:
            color = "#dddddd" if batch is None else colors[batch]
            ax.add_patch(FancyBboxPatch((x0 + start * cell, y - 0.35), length * cell - 0.04, 0.7,
                                        boxstyle="square,pad=0", facecolor=color, edgecolor="#333", lw=0.8))
            if batch is not None:
                ax.text(x0 + (start + length / 2) * cell, y, f"批{batch + 1}", ha="center", va="center")
    # random sampling: offset 2, six subsequences shuffled into three minibatches
    order = [1, 0, 2, 0, 2, 1]
    bar(3.2, [(0, 2, None)] + [(2 + 5 * i, 5, b) for i, b in enumerate(order)] + [(32, 3, None)], "随机采样")
    # sequential: offset 1, two rows of 15 tokens lying one after the other in the text
    pieces = [(0, 1, None)] + [(1 + 5 * i, 5, i) for i in range(3)] + [(16 + 5 * i, 5, i) for i in range(3)]
    bar(1.2, pieces + [(31, 4, None)], "顺序分区")
    ax.text(x0 + 8.5 * cell, 0.6, "第 1 行", ha="center", va="top")
    ax.text(x0 + 23.5 * cell, 0.6, "第 2 行", ha="center", va="top")
    ax.text(x0 + 1 * cell, 3.65, "偏移量", ha="center", va="bottom")
    return fig


def gru_cell():
    """One GRU step: the update gate mixes the old state and the candidate, the reset gate
    scales H_{t-1} before it enters the candidate."""
    fig, ax = frame(12.6, 7.2, 3.6)
    top, gates_y, bus_y, x_y = 6.4, 3.1, 1.3, 0.4
    xs = {"Z": 2.3, "R": 4.8, "C": 8.3}
    labels = {"Z": "更新门\n$\\sigma$", "R": "重置门\n$\\sigma$", "C": "候选隐状态\ntanh"}
    for k, x in xs.items():
        box(ax, x, gates_y, 2.15, 1.2, labels[k], CELL_COLOR if k == "C" else GATE_COLOR)
    # inputs: H_{t-1} along the top, X_t along the bottom; both gates read the two of them
    ax.text(0.1, top + 0.12, "$\\mathbf{H}_{t-1}$", va="bottom")
    ax.text(0.1, x_y, "$\\mathbf{X}_t$", va="center")
    line(ax, [(0.1, top), (10.4 - 0.22, top)])
    line(ax, [(1.0, x_y), (xs["C"], x_y)])
    arrow(ax, (xs["C"], x_y), (xs["C"], gates_y - 0.62))
    line(ax, [(0.8, top), (0.8, bus_y), (xs["R"], bus_y)])
    line(ax, [(1.4, x_y), (1.4, bus_y)])
    for k in ("Z", "R"):
        arrow(ax, (xs[k], bus_y), (xs[k], gates_y - 0.62))
    # R ⊙ H_{t-1} enters the candidate
    op(ax, 6.4, 4.6, "×")
    arrow(ax, (6.4, top), (6.4, 4.82))
    line(ax, [(xs["R"], gates_y + 0.62), (xs["R"], 4.6), (6.4 - 0.22, 4.6)])
    line(ax, [(6.62, 4.6), (7.6, 4.6)])
    arrow(ax, (7.6, 4.6), (7.6, gates_y + 0.62))
    # H_t = Z ⊙ H_{t-1} + (1 - Z) ⊙ H~
    op(ax, 10.4, top, "×")
    line(ax, [(xs["Z"], gates_y + 0.62), (xs["Z"], 5.4), (10.4, 5.4)])
    arrow(ax, (10.4, 5.4), (10.4, top - 0.22))
    box(ax, 10.4, 4.45, 0.9, 0.55, "1−", "white")
    arrow(ax, (10.4, 5.4), (10.4, 4.75))
    op(ax, 10.4, gates_y, "×")
    arrow(ax, (10.4, 4.17), (10.4, gates_y + 0.22))
    arrow(ax, (xs["C"] + 1.08, gates_y), (10.4 - 0.22, gates_y))
    op(ax, 11.6, 4.75, "+")
    line(ax, [(10.62, top), (11.6, top)])
    arrow(ax, (11.6, top), (11.6, 4.97))
    line(ax, [(10.62, gates_y), (11.6, gates_y)])
    arrow(ax, (11.6, gates_y), (11.6, 4.53))
    arrow(ax, (11.82, 4.75), (12.5, 4.75))
    ax.text(11.75, 5.0, "$\\mathbf{H}_t$", va="bottom")
    return fig


def deep_rnn():
    """Two recurrent layers over three time steps: each layer has its own hidden state, the
    first layer's hidden states are the second layer's inputs, the output reads the top layer."""
    fig, ax = frame(12.6, 8.4, 4.0)
    xs = {"t-1": 2.6, "t": 6.3, "t+1": 10.0}
    for k, x in xs.items():
        box(ax, x, 0.6, 1.5, 0.8, f"$\\mathbf{{X}}_{{{k}}}$", "white")
        box(ax, x, 2.8, 2.0, 1.0, f"$\\mathbf{{H}}^{{(1)}}_{{{k}}}$", STATE_COLOR)
        box(ax, x, 5.2, 2.0, 1.0, f"$\\mathbf{{H}}^{{(2)}}_{{{k}}}$", GATE_COLOR)
        box(ax, x, 7.6, 1.5, 0.8, f"$\\mathbf{{O}}_{{{k}}}$", "white")
        arrow(ax, (x, 1.0), (x, 2.3))
        arrow(ax, (x, 3.3), (x, 4.7))
        arrow(ax, (x, 5.7), (x, 7.2))
    for y in (2.8, 5.2):
        arrow(ax, (0.2, y), (xs["t-1"] - 1.0, y))
        for a, b in [("t-1", "t"), ("t", "t+1")]:
            arrow(ax, (xs[a] + 1.0, y), (xs[b] - 1.0, y))
        arrow(ax, (xs["t+1"] + 1.0, y), (12.4, y))
    ax.text(0.1, 3.05, "第 1 层", va="bottom")
    ax.text(0.1, 5.45, "第 2 层", va="bottom")
    return fig


def bptt_graph():
    """The computational graph of three RNN steps: the loss depends on every output, and the
    gradient flows back along the chain of hidden states."""
    fig, ax = frame(12.6, 7.2, 3.6)
    for t in (1, 2, 3):
        x = 3.0 + 3.2 * (t - 1)
        box(ax, x, 0.7, 1.2, 0.8, f"$\\mathbf{{x}}_{t}$", "white")
        box(ax, x, 3.0, 1.2, 0.8, f"$\\mathbf{{h}}_{t}$", STATE_COLOR)
        box(ax, x, 5.0, 1.2, 0.8, f"$\\mathbf{{o}}_{t}$", "white")
        arrow(ax, (x, 1.1), (x, 2.6))
        ax.text(x + 0.1, 1.85, "$\\mathbf{W}_{xh}$", va="center")
        arrow(ax, (x, 3.4), (x, 4.6))
        ax.text(x + 0.1, 4.0, "$\\mathbf{W}_{hq}$", va="center")
        line(ax, [(x, 5.4), (x, 5.9), (10.6, 5.9)])
    box(ax, 11.2, 5.9, 1.0, 0.8, "$L$", CELL_COLOR)
    box(ax, 0.8, 3.0, 1.2, 0.8, "$\\mathbf{h}_0$", STATE_COLOR)
    for a, b in [(0.8, 3.0), (3.0, 6.2), (6.2, 9.4)]:
        arrow(ax, (a + 0.6, 3.0), (b - 0.6, 3.0))
        ax.text((a + b) / 2, 3.15, "$\\mathbf{W}_{hh}$", ha="center", va="bottom")
    ax.annotate("", xy=(1.4, 2.35), xytext=(9.9, 2.35),
                arrowprops=dict(arrowstyle="-|>", lw=1.4, color="#c0392b", linestyle="--"))
    ax.text(0.1, 6.9, "红色虚线：梯度沿隐状态反向传回", va="top", color="#c0392b")
    return fig


DIAGRAMS = {"lstm_cell": lstm_cell, "rnn_unrolled": rnn_unrolled, "rnn_concat": rnn_concat,
            "char_lm": char_lm, "partitioning": partitioning, "gru_cell": gru_cell,
            "deep_rnn": deep_rnn,
            "bptt_graph": bptt_graph}


def write(names, out=OUT):
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        fig = DIAGRAMS[name]()
        # no date in the file: a re-run gives the same bytes
        fig.savefig(out / f"{name}.svg", format="svg", bbox_inches="tight",
                    metadata={"Date": None, "Creator": None})
        plt.close(fig)
        print(out / f"{name}.svg")


def main(argv):
    unknown = [name for name in argv if name not in DIAGRAMS]
    if unknown:
        raise SystemExit(f"unknown diagram(s) {unknown}; choose from {sorted(DIAGRAMS)}")
    write(argv or list(DIAGRAMS))


if __name__ == "__main__":
    main(sys.argv[1:])
