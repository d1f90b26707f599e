"""The course's diagrams: each SVG in _static/diagrams is what tools/diagrams.py draws (so the
source in the repository is the figure on the site), every one is used by a page with a real
description as alt text, and its text is drawn as outlines (Chinese renders without a font)."""
import json
import re
from pathlib import Path

import pytest

from tools import diagrams

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "chapters").glob("*.ipynb"))
IMAGE = re.compile(r"!\[([^\]]*)\]\(\.\./_static/diagrams/([\w-]+)\.svg\)")


def used_diagrams():
    found = {}
    for page in PAGES:
        for cell in json.loads(page.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                for alt, name in IMAGE.findall("".join(cell["source"])):
                    found.setdefault(name, []).append((page.stem, alt))
    return found


def test_committed_svgs_are_what_the_script_draws(tmp_path):
    diagrams.write(list(diagrams.DIAGRAMS), out=tmp_path)
    committed = sorted(p.name for p in diagrams.OUT.glob("*.svg"))
    assert committed == sorted(p.name for p in tmp_path.glob("*.svg")), "run `python -m tools.diagrams`"
    for name in committed:
        assert (tmp_path / name).read_bytes() == (diagrams.OUT / name).read_bytes(), \
            f"{name} differs from what tools/diagrams.py draws; run `python -m tools.diagrams`"


def test_every_diagram_is_on_a_page_with_a_description_and_text_as_outlines():
    used = used_diagrams()
    assert sorted(used) == sorted(diagrams.DIAGRAMS), "a diagram that no page shows, or a page showing a missing one"
    for name, uses in used.items():
        for page, alt in uses:
            assert len(alt) >= 30 and re.search("[\u4e00-\u9fff]", alt), f"{page}: alt text of {name} is not a description"
        svg = (diagrams.OUT / f"{name}.svg").read_text(encoding="utf-8")
        assert "<text" not in svg  # glyphs as paths: no web font needed on a phone
        width_pt = float(re.search(r'width="([\d.]+)pt"', svg).group(1))
        assert width_pt <= diagrams.plot.MAX_WIDTH_IN * 72 + 1  # readable when shrunk to 375 px


def test_an_unknown_diagram_name_is_refused_with_the_choices():
    with pytest.raises(SystemExit, match="rnn_unrolled"):
        diagrams.main(["rnn_unrolld"])
