"""What a chapter teaches, it defines in its own code cells; course_utils keeps the same code
for the later chapters. These tests hold the two equal: the parsed code of every function,
class and constant a chapter defines under a name that course_utils also defines must be the
same (docstrings and comments aside), and every lesson function of the package must be
defined on some page."""
import ast
import json
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
LESSON_MODULES = ["text", "iterators", "ngram", "models", "train", "memory_task"]
# Package code the chapters use without teaching it line by line (each with the reason).
NOT_TAUGHT = {
    "ngram.zipf_exponent": "a least-squares line fit; chapter 3 teaches what it shows",
    "ngram.ngram_freqs": "a Counter over ngrams(), which chapter 3 defines",
    "iterators.load_data": "a convenience wrapper for the later chapters",
    "models.count_parameters": "one line over net.parameters()",
    "train.format_perplexity": "how the training log prints a diverged run",
    "train.copy_params": "bookkeeping behind choosing the best epoch",
    "train.load_params": "bookkeeping behind choosing the best epoch",
    "train.History": "the record a run keeps; chapter 5 says what it holds and imports it",
    "train.exp_or_inf": "math.exp returning inf instead of raising OverflowError",
    "train.check_prefix": "input checking with a clear error; chapter 5 says what it rejects",
    "train.evaluating": "switches an nn.Module to eval mode (dropout off) and back; taught with dropout",
}


def strip_docstrings(node):
    for n in ast.walk(node):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = n.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                n.body = body[1:] or [ast.Pass()]
    return node


def top_level(tree):
    """name -> node for top-level functions, classes and simple constant assignments."""
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper():
            found[node.targets[0].id] = node
    return found


def dump(node):
    return ast.dump(strip_docstrings(node), include_attributes=False)


def notebook_definitions(path):
    transform = TransformerManager().transform_cell  # turns %pip lines into Python
    found = {}
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            found.update(top_level(ast.parse(transform("".join(cell["source"])))))
    return found


def package_definitions():
    out = {}
    for module in LESSON_MODULES:
        tree = ast.parse((ROOT / "course_utils" / f"{module}.py").read_text(encoding="utf-8"))
        for name, node in top_level(tree).items():
            out[name] = (module, node)
    return out


PACKAGE = package_definitions()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_what_a_page_defines_is_what_the_package_runs(path):
    for name, node in notebook_definitions(path).items():
        if name in PACKAGE:
            module, ours = PACKAGE[name]
            assert dump(node) == dump(ours), (
                f"{path.name} defines {name} differently from course_utils/{module}.py: "
                f"change both together")


def test_every_lesson_function_of_the_package_is_defined_on_a_page():
    on_pages = {name: path.stem for path in CHAPTERS for name in notebook_definitions(path)}
    missing = [f"{module}.{name}" for name, (module, _) in PACKAGE.items()
               if not name.startswith("_") and name not in on_pages
               and f"{module}.{name}" not in NOT_TAUGHT]
    assert not missing, f"package code that no page defines (teach it or list it): {missing}"
    stale = [n for n in NOT_TAUGHT if n.split(".")[1] not in PACKAGE]
    assert not stale, f"NOT_TAUGHT lists names the package no longer has: {stale}"


def test_the_comparison_sees_a_real_difference():
    a = top_level(ast.parse("def f(x):\n    '''doc'''\n    return x + 1  # one\n"))["f"]
    b = top_level(ast.parse("def f(x):\n    # another comment\n    return x + 1\n"))["f"]
    c = top_level(ast.parse("def f(x):\n    return x - 1\n"))["f"]
    assert dump(a) == dump(b) and dump(a) != dump(c)


def test_every_chapter_starts_with_the_same_setup_cell():
    """Opened alone (Colab, Binder, a downloaded file), a chapter installs course_utils first."""
    first_cells = []
    for path in CHAPTERS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        first_cells.append("".join(code[0]["source"]))
        assert "find_spec(\"course_utils\")" in first_cells[-1], path.name
    assert len(set(first_cells)) == 1


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_settings_are_on_the_page_behind_one_switch(path):
    """The chapter's settings are plain variables in its first code cell after the setup cell,
    behind one FULL switch, and the page prints which run it is."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    settings = code[1]
    assert "FULL = config.is_full()" in settings and "config.about_run(FULL" in settings
    assert len(settings.splitlines()) <= 30, "a settings cell a reader can take in at once"
    later = "\n".join(code[2:])
    assert "FULL = " not in later, "one switch, set once"
    assert "hparams" not in "\n".join(code) and "mode=" not in later


def figure_calls(path):
    """(figure width in inches or None, font sizes) for every call in the chapter's code."""
    transform = TransformerManager().transform_cell
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(transform("".join(cell["source"])))):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "figsize":
                        yield "figsize", ast.literal_eval(kw.value)[0]
                    elif kw.arg in ("fontsize", "size", "labelsize") \
                            and isinstance(kw.value, ast.Constant):
                        yield kw.arg, kw.value.value


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_figures_stay_readable_on_a_phone(path):
    """Figures are shown at the phone's width: wider figures or smaller fonts than
    course_utils/plot.py allows would shrink their labels below 9 px on a 375 px screen."""
    from course_utils import plot
    for arg, value in figure_calls(path):
        if arg == "figsize":
            assert value <= plot.MAX_WIDTH_IN, f"{path.name}: figsize width {value} in"
        elif isinstance(value, (int, float)):
            assert value >= plot.BASE_FONT_PT, f"{path.name}: {arg}={value}"


def test_the_figure_check_sees_a_wide_figure(tmp_path):
    cell = {"cell_type": "code", "source": ["plt.subplots(1, 2, figsize=(10, 3))\n",
                                             "ax.set_title('t', fontsize=8)"]}
    nb = tmp_path / "wide.ipynb"
    nb.write_text(json.dumps({"cells": [cell]}), encoding="utf-8")
    assert list(figure_calls(nb)) == [("figsize", 10), ("fontsize", 8)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_page_is_read_in_one_sitting(path):
    """Pages a student can take in at once: at most 45 cells, no code cell over 30 lines."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert len(cells) <= 45, f"{path.name} has {len(cells)} cells; move a study to the appendix or split the page"
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines()
            assert len(lines) <= 30, f"{path.name} cell {index} has {len(lines)} lines of code; split it"
