"""Numbers in the prose come from the run that produced them.

A markdown cell may quote a decimal number or a percentage only when it is
- glued from the code that computed it (myst-nb `glue` plus a `{glue:text}` role), or
- a number of the same notebook's code (a hyperparameter or constant the reader can see; a
  percentage matches its fraction, 81% ↔ 0.81), or
- an exercise or section number ("**7.1**", "练习 5.2"), or part of an exercise statement (the
  "## 练习" list of a chapter, the questions of the answers page: they set values, quote none), or
- a figure cited from another source, listed in CITED with its source.
Everything else is a number typed by hand from some earlier output, which a re-run leaves behind.
"""
import ast
import json
import re
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))

# Figures from other sources or set on another page (chapter stem, number as written): where
# they come from.
CITED = {
    ("07_gru", "0.01"): "第 5 章的裁剪阈值，也是 models.init_weight 的标准差",
    ("06_rnn_concise", "1.05"): "d2l-zh 第 8.6 节报告的训练困惑度",
    ("answers_03_04", "1.3"): "d2l-zh 第 8.5 节报告的随机采样训练困惑度",
    ("07_gru", "0.2"): "d2l 早期 GRU 教程的学习率（换算成本章的设置）",
}

GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`]+)`")
NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*\s*%|(?<![\w.])\d[\d,]*\.\d+(?![\d.])")
NOT_PROSE = [
    re.compile(r"\$\$.*?\$\$", re.S),         # display math
    re.compile(r"\$[^$\n]*\$"),               # inline math
    re.compile(r"```.*?```", re.S),           # fenced code
    GLUE_ROLE,                                # glued values
    re.compile(r"`[^`]*`"),                   # inline code
    re.compile(r"\]\([^)]*\)"),               # link targets
    re.compile(r"\*\*\d+\.\d+\*\*"),          # exercise numbers in the answers
    re.compile(r"(练习|第|节|章)\s*\d+\.\d+"),  # "练习 5.2", "第 8.5 节"
    re.compile(r"^# \d+\.\d+ ", re.M),       # a section page's title: "# 4.1 通过时间反向传播"
]
EXERCISES = re.compile(r"^## 练习.*", re.S | re.M)  # a chapter's exercise list, to the cell's end
QUESTION = re.compile(r"\s*\*\*\d+\.\d+\*\*")    # a question of the answers page


def cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def glued_names(nb_cells):
    names = set()
    for cell in nb_cells:
        for out in cell.get("outputs", []):
            scrap = out.get("metadata", {}).get("scrapbook")
            if scrap:
                names.add(scrap["name"])
    return names


def code_numbers(nb_cells):
    """Every number written in the notebook's code (1e-3 and 0.001 alike), rounded."""
    transform = TransformerManager().transform_cell  # turns %pip lines into Python
    found = set()
    for cell in nb_cells:
        if cell["cell_type"] == "code":
            for node in ast.walk(ast.parse(transform("".join(cell["source"])))):
                if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                    found.add(round(node.value, 9))
    return found


def value_of(number):
    """The value a quoted number stands for: '0.01' -> 0.01, '81%' -> 0.81."""
    plain = number.replace(",", "").strip()
    if plain.endswith("%"):
        return round(float(plain[:-1].strip()) / 100, 9)
    return round(float(plain), 9)


def unglued_numbers(stem, nb_cells):
    """(cell index, number, context) for each number in the prose that nothing backs."""
    numbers = code_numbers(nb_cells)
    cited = {n for (s, n) in CITED if s == stem}
    found = []
    for index, cell in enumerate(nb_cells):
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or QUESTION.match(text):
            continue
        text = EXERCISES.sub(" ", text)
        for pattern in NOT_PROSE:
            text = pattern.sub(" ", text)
        for match in NUMBER.finditer(text):
            if match.group().strip() in cited or value_of(match.group()) in numbers:
                continue
            context = text[max(0, match.start() - 20):match.end() + 10].replace("\n", " ")
            found.append((index, match.group(), context))
    return found


def glue_references(stem, nb_cells):
    """(notebook stem, key) of every pasted value; `other.ipynb::key` pastes from another page."""
    refs = []
    for cell in nb_cells:
        if cell["cell_type"] == "markdown":
            for role in GLUE_ROLE.finditer("".join(cell["source"])):
                doc, _, key = role.group(1).rpartition("::")
                if role.group(0).startswith("{glue:text}"):
                    key = key.rsplit(":", 1)[0]
                refs.append((Path(doc).stem if doc else stem, key))
    return refs


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_in_the_prose_are_glued_from_the_run(path):
    found = unglued_numbers(path.stem, cells(path))
    assert not found, (
        "these numbers are typed into the prose by hand; glue them from the cell that computes "
        "them (myst_nb.glue + {glue:text}`name:.1f`), or list a cited figure in CITED:\n"
        + "\n".join(f"  cell {i}: {n!r} in …{c}…" for i, n, c in found))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_reference_has_a_value_in_the_stored_outputs(path):
    glued = {}
    missing = []
    for stem, key in glue_references(path.stem, cells(path)):
        if stem not in glued:
            glued[stem] = glued_names(cells(path.parent / f"{stem}.ipynb"))
        if key not in glued[stem]:
            missing.append(f"{stem}::{key}")
    assert not missing, f"the prose pastes {sorted(set(missing))}, which no stored output glues; re-run the chapter"


def test_the_prose_check_sees_a_typed_number_and_accepts_glue_and_settings():
    nb_cells = [
        {"cell_type": "code", "source": ["lr, share = 1e-2, 0.81\n"], "outputs": [
            {"output_type": "display_data", "metadata": {"scrapbook": {"name": "test_ppl"}}}]},
        {"cell_type": "markdown", "source": [
            "学习率 0.01 时，测试困惑度为 {glue:text}`test_ppl:.1f`（第 3 章：{glue:text}`03_x.ipynb::a:.0%`），",
            "而上一次运行是 504.65，<unk> 占 9.2%；训练文本占 81%；见练习 5.2 与 **7.1**；$\\tau = 0.5$。\n",
            "## 练习\n", "1. 把学习率改为 0.3。"]},
        {"cell_type": "markdown", "source": ["**5.4** 分别用 0.1、0.5 试一试。"]},
        {"cell_type": "markdown", "source": ["答案：训练困惑度约 1.3。"]},
    ]
    found = unglued_numbers("made_up", nb_cells)
    assert [(i, n) for i, n, _ in found] == [(1, "504.65"), (1, "9.2%"), (3, "1.3")]
    assert glue_references("made_up", nb_cells) == [("made_up", "test_ppl"), ("03_x", "a")]
    assert glued_names(nb_cells) == {"test_ppl"}
