"""What the site publishes: every chapter notebook stores outputs of a full run."""
import json
from pathlib import Path

import pytest

from tools import notebooks

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_stored_outputs_are_from_a_full_run(path):
    assert notebooks.problems(path) == []


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc


def test_problems_catches_bad_notebooks(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "source": ["1/0"], "execution_count": 2, "metadata": {},
         "outputs": [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "x",
                      "traceback": []}]},
        {"cell_type": "code", "source": ["print(p)"], "execution_count": 1, "metadata": {},
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "/home/me/data\n"},
                     {"output_type": "stream", "name": "stderr",
                      "text": "x.py:3: UserWarning: Glyph 35757 missing from font(s) DejaVu Sans.\n"}]}],
        "metadata": {"course": {"mode": "quick"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(nb))
    found = " | ".join(notebooks.problems(path))
    assert "not from a full run" in found and "execution counts" in found
    assert "stored error ZeroDivisionError" in found and "absolute path" in found
    assert "a warning in the stored outputs" in found and "Glyph 35757" in found
