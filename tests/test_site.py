"""The published site, checked the way a reader meets it.

The site is built once (into _build/html, what `make site` publishes) with warnings as
errors and no repository URL, and once more into a temporary folder with one. Then every
page is opened in headless Chromium (found by $CHROMIUM, the PATH or Playwright), served
from the folder on 127.0.0.1 with every other request blocked, at a desktop and a 375 px
phone width, and checked: no console error, no request to another host, math typeset, the
Chinese headline drawn with a Chinese font, every image loaded with a description, figure
text large enough on the phone, tables and outputs readable there, code cells with copy
buttons, answers that unfold and print unfolded, the interface in Simplified Chinese. A
reader taps the ☰ and contents buttons at phone, tablet and desktop widths; the search must
find what students type; the first visit must stay light. Pages opened straight from the
folder (file://) must work too. Screenshots go to _build/screenshots/.

All of it lives in this one module so that pytest-xdist (--dist loadfile) runs it on one
worker and the site is built once.
"""
import base64
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml
from playwright.sync_api import expect, sync_playwright
from pypdf import PdfReader

from fontTools.ttLib import TTFont

from course_utils import plot
from tools import site_measure

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext"))
import mathml  # noqa: E402  (the site's extension: _ext/ is not a package)

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_FILES = sorted((ROOT / "chapters").glob("*.ipynb"))
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
# CI sets this: there a missing browser fails the run instead of skipping the browser checks.
REQUIRE_BROWSER = os.environ.get("COURSE_REQUIRE_BROWSER") == "1"


def find_chromium():
    """The browser to drive: $CHROMIUM, else a Chromium on the PATH, else the one Playwright
    installed (`make browser`); None when there is none."""
    if os.environ.get("CHROMIUM"):
        path = Path(os.environ["CHROMIUM"])
        if not path.is_file():
            raise FileNotFoundError(f"CHROMIUM={path} is not a file; point it at a Chromium or "
                                    f"Chrome binary, or unset it")
        return str(path)
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    with sync_playwright() as p:
        own = p.chromium.executable_path
    return own if own and Path(own).is_file() else None

# The chapter the screenshots show and the search must find, and Chinese words from it.
# Several words: one jieba keeps whole, and ones it splits or glues to a neighbour.
SHOT_DOC = "chapters/05_rnn_scratch"
SEARCH_DOC = "chapters/05_rnn_scratch"
SEARCH_WORDS = ["困惑度", "梯度裁剪", "循环神经网络", "隐状态"]
# A first visit to any page stays under this many bytes (the heaviest is about 490 KB; a math
# script such as MathJax, 650 KB, would not fit): at 400 kbit/s about 14 s
# (bench/page_weight.md has the measured times; the budget there is 30 s to load).
PAGE_BUDGET_BYTES = 700_000
NOT_IN_COURSE = "鸭嘴兽"  # a word no page has: the search must not return everything
ANSWERS_PREFIX = "chapters/answers_"  # the answer pages: answers are collapsed until clicked

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}

CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Names that stay as they are in a Chinese interface; the titles of the chapters, which the
# navigation repeats, may name models; and file suffixes (.ipynb, .md).
UI_NAMES = re.compile(r"GitHub|Binder|Colab|PDF|Ctrl|CC BY-SA|MIT|MathJax|d2l|GRU|RNN|LSTM|Kneser–Ney|"
                      r"\.ipynb|\.md|\bK\b|\bn\b|\d")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
RAW_MATH = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\s][^$\n]{0,200}?\$")


# --------------------------------------------------------------------------- the book

def toc_entries():
    """(docname, chapter number or None) in reading order: the root, then every file of
    _toc.yml. Top-level chapters of parts marked `numbered` are numbered on, across parts."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries, count = [(toc["root"], None)], 0

    def walk(items, numbered, top):
        nonlocal count
        for item in items or []:
            if "file" in item:
                count += numbered and top
                entries.append((item["file"], count if numbered and top else None))
            walk(item.get("sections"), numbered, False)

    for part in toc.get("parts") or [{"chapters": toc.get("chapters")}]:
        walk(part.get("chapters"), bool(part.get("numbered")), True)
    return entries


def toc_docs():
    return [doc for doc, _ in toc_entries()]


def source(doc):
    for suffix in (".ipynb", ".md"):
        path = ROOT / (doc + suffix)
        if path.is_file():
            return path
    raise FileNotFoundError(f"{doc} is in _toc.yml but has no .ipynb or .md file")


def markdown(doc):
    """The page's prose: a notebook's markdown cells, or the .md file."""
    path = source(doc)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def headline(doc):
    """The page title: the first level-1 heading of the source."""
    for line in markdown(doc).splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{source(doc).name} has no '# ' title")


# Every page a reader can reach: the toc's pages, the redirect, search and index pages.
SPECIAL = {"index": None, "search": "搜索", "genindex": "索引"}
PAGES = toc_docs() + list(SPECIAL)


# --------------------------------------------------------------------------- formulas

@pytest.mark.parametrize("tex,display,wanted", [
    (r"\mathbf{h}_t", False, "<msub><mi>𝐡</mi><mi>t</mi></msub>"),  # Core ignores mathvariant
    (r"\boldsymbol{\theta}", False, "<mi>𝜽</mi>"),
    (r"\sum_{t=1}^{n} x_t", True, "<munderover><mo>∑</mo>"),  # limits under and over
    (r"\min_{k} x_k", True, '<munder><mo movablelimits="true">min</mo>'),
    (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", True, '<mtd columnalign="left"><mo>=</mo>'),
    (r"x_t \sim P", False, "<mo>∼</mo>"),  # latex2mathml writes an ASCII ~
    (r"x_{t-1}", False, '<mo lspace="0" rspace="0">−</mo>'),  # no spaces inside indices
    (r"\log n", False, '<mi>log</mi><mspace width="0.1667em"></mspace><mi>n</mi>'),
    (r"\tanh(x)", False, "<mi>tanh</mi><mo"),  # no space before a bracket
    (r"a = -b", False, '<mo form="prefix">−</mo>'),  # a sign, not a subtraction
    (r"\hat{x}", False, '<mover accent="true"><mi>x</mi><mo'),
    (r"x^{\prime}", False, '<mi>x</mi><mo lspace="0" rspace="0">′</mo>'),
])
def test_tex_becomes_mathml_that_browsers_draw(tex, display, wanted):
    markup, _text, _words, problems = mathml.render(tex, display)
    assert not problems
    assert wanted in "".join(markup), markup
    assert "mathvariant=\"bold" not in "".join(markup) and "&amp;" not in "".join(markup)


@pytest.mark.parametrize("tex", [r"\foo x", r"a \\ b", r"a & b", r"\frac{1}", r"x^", r"\left( x"])
def test_tex_that_cannot_be_drawn_is_reported(tex):
    """Each becomes a build warning naming the formula (the site builds with -W)."""
    assert mathml.render(tex, False)[3]


def test_formulas_have_a_plain_text_form_for_search_snippets():
    assert mathml.render(r"P(x_t \mid x_{t-1}, \ldots, x_1)", False)[1] == "P(xₜ ∣ xₜ₋₁, …, x₁)"
    assert mathml.render(r"\mathbf{W}_{hh}^\top", False)[1] == "Wₕₕᵀ"
    assert mathml.render(r"\hat{P}(x) = \frac{n(x)}{n}", False)[1] == "P̂(x) = n(x)/n"
    assert mathml.render(r"\text{输入门}\quad \mathbf{I}_t", True)[2] == "输入门"


def test_long_formulas_are_split_where_a_line_may_break():
    markup = mathml.render(r"\mathbf{H}_t = \phi(\mathbf{X}_t \mathbf{W}_{xh} + \mathbf{b}_h), "
                           r"\mathbf{O}_t = \mathbf{H}_t \mathbf{W}_{hq}", False)[0]
    assert len(markup) == 4 and all(m.startswith("<math") for m in markup)
    assert len(mathml.render(r"x_t = 1", False)[0]) == 1  # a short one stays whole
    side_by_side = mathml.render(r"a = 1, \qquad b = 2", True)[0]
    assert len(side_by_side) == 2 and all('display="block"' in m for m in side_by_side)


def test_math_font_is_cut_to_what_the_formulas_draw(tmp_path):
    size = mathml.write_font("x𝐡∑()", tmp_path / "m.woff")
    font = TTFont(tmp_path / "m.woff")
    assert "MATH" in font and size < 30_000
    assert {ord(c) for c in "x𝐡∑()"} <= set(font.getBestCmap())
    # the copyright and licence of STIX Two Math travel with the cut
    names = {r.nameID: r.toUnicode() for r in font["name"].names if r.platformID == 3}
    assert "STIX" in names[0] and "Open Font License" in names[13]


# --------------------------------------------------------------------------- the build

REPO_URL = "https://github.com/example-course/seq-rnn"  # stands in for a public repository


def build(output=None, repo_url="none", toc=None):
    """jupyter-book build of the course (into _build/html, or a folder of its own); with
    `toc`, only the pages it lists (links to the others then warn, so no -W there)."""
    jb = Path(sys.executable).with_name("jupyter-book")
    args = [str(jb), "build", str(ROOT), "--all", "--keep-going"]
    args += ["--toc", str(toc)] if toc else ["-W", "-n"]
    if output:
        args += ["--path-output", str(output)]
    env = {**os.environ, "COURSE_REPO_URL": repo_url}
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    return (Path(output) / "_build" / "html") if output else SITE


@pytest.fixture(scope="module")
def built_site():
    # From scratch: no page left over from an earlier toc, and (--all) a warning in a page
    # that an earlier build left unchanged fails again. No repository URL, whatever the
    # checkout's `origin` is: the buttons must then disappear.
    shutil.rmtree(SITE, ignore_errors=True)
    return build()


# The buttons come from one extension that treats every page alike (_ext/repo_links.py): the
# build with a repository URL holds one page of each kind (the start page, a chapter, a
# section page, an answers page), which keeps the test command's second build short.
REPOSITORY_BUILD_DOCS = ["intro", "chapters/04_rnn", "chapters/04b_bptt", "chapters/answers_12"]


@pytest.fixture(scope="module")
def site_with_repository(tmp_path_factory):
    folder = tmp_path_factory.mktemp("with-repository")
    toc = folder / "_toc.yml"
    toc.write_text(yaml.safe_dump({
        "format": "jb-book", "root": "intro",
        "chapters": [{"file": "chapters/04_rnn", "sections": [{"file": "chapters/04b_bptt"}]},
                     {"file": "chapters/answers_12"}]}, allow_unicode=True), encoding="utf-8")
    return build(folder, repo_url=REPO_URL, toc=toc)


def test_the_repository_build_holds_a_page_of_each_kind():
    docs = toc_docs()
    assert all(doc in docs for doc in REPOSITORY_BUILD_DOCS)
    assert {source(doc).suffix for doc in REPOSITORY_BUILD_DOCS} == {".md", ".ipynb"}


def test_site_builds_without_warnings(built_site):
    index = built_site / "intro.html"
    assert "序列模型与循环神经网络" in index.read_text(encoding="utf-8")


def html_pages(site):
    return sorted(p.relative_to(site).with_suffix("").as_posix() for p in site.rglob("*.html")
                  if not p.relative_to(site).parts[0].startswith("_"))


def test_every_built_page_is_checked_in_the_browser(built_site):
    assert html_pages(built_site) == sorted(PAGES)


class Resources(HTMLParser):
    """What a page loads: script/style/image/frame URLs and inline script and style text."""
    LOADING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon",
                    "shortcut", "manifest", "apple-touch-icon"}

    def __init__(self):
        super().__init__()
        self.urls, self.inline, self._in = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "embed", "audio", "video",
                   "track", "input") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and set((a.get("rel") or "").split()) & self.LOADING_RELS:
            self.urls.append(a.get("href", ""))
        if tag == "object" and a.get("data"):
            self.urls.append(a["data"])
        if a.get("style"):
            self.inline.append(a["style"])
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.inline.append(data)


def is_external(url):
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme not in ("", "data", "blob")


EXTERNAL_IN_TEXT = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)


def test_no_page_or_stylesheet_loads_anything_from_another_host(built_site):
    offenders = []
    for page in built_site.rglob("*.html"):
        parser = Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        offenders += [(page.name, u) for u in parser.urls if is_external(u)]
        offenders += [(page.name, t[:120]) for t in parser.inline if EXTERNAL_IN_TEXT.search(t)]
    for css in (built_site / "_static").rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)",
                              css.read_text(encoding="utf-8", errors="replace")):
            url = url[0] or url[1]
            if is_external(url):
                offenders.append((css.name, url))
    assert not offenders


def test_formulas_are_mathml_written_at_build_time(built_site):
    """No page loads a math script: every formula is MathML in the page itself, drawn with the
    site's own cut of a math font, which only the stylesheet names (so a browser fetches it
    only for a page that has a formula)."""
    pages = {p: p.read_text(encoding="utf-8")
             for p in (built_site / f"{doc}.html" for doc in html_pages(built_site))}
    math_pages = [p for p, html in pages.items() if 'class="math' in html]
    assert math_pages and len(math_pages) < len(pages), "some pages have math, some do not"
    for page, html in pages.items():
        assert not re.search(r"<(script|link)\b[^>]*(mathjax|katex)", html, re.I), page.name
        formulas = re.findall(r'<(span|div) class="math[^"]*"[^>]*>(.*?)</\1>', html, re.S)
        for _tag, body in formulas:
            assert body.lstrip().startswith(("<math", '<span class="eqno"')), body[:200]
            assert "\\" not in re.sub(r"<[^>]+>", "", body), body[:200]  # no TeX left
        assert "course-math.woff" not in html, page.name
    assert not (built_site / "_static" / "mathjax").exists()
    font = TTFont(built_site / "_static" / mathml.FONT_NAME)
    assert "MATH" in font and font.flavor == "woff"
    assert (built_site / "_static" / mathml.FONT_NAME).stat().st_size < 80_000
    # the font has every character the formulas draw (Chinese comes from the page's font)
    cmap = font.getBestCmap()
    missing = {c for c in mathml.used_characters(pages.values()) if ord(c) not in cmap}
    assert not missing, missing
    bundle = (built_site / "_static" / "styles" / "course-bundle.css").read_text(encoding="utf-8")
    assert mathml.FONT_NAME in bundle and "font-display:swap" in bundle.replace(" ", "")


def test_heavy_theme_assets_are_gone(built_site):
    """Font Awesome's 1.45 MB script, the search index on every page, eight stylesheets."""
    for page in (built_site / f"{doc}.html" for doc in html_pages(built_site)):
        html = page.read_text(encoding="utf-8")
        assert "fontawesome.js" not in html, page.name
        assert not re.search(r'<(?:i|span) class="[^"]*\bfa-', html), f"{page.name}: a Font Awesome glyph"
        # the search code only on the search page, which fetches its index once it has loaded
        # (no script tag for it); Sphinx's highlighter is replaced by _static/course.js
        search_scripts = ("searchtools.js" in html, "sphinx_highlight.js" in html)
        assert search_scripts == ((True, True) if page.name == "search.html" else (False, False)), \
            page.name
        assert not re.search(r'<script[^>]*searchindex\.js', html), page.name
        sheets = re.findall(r'<link [^>]*rel="stylesheet"[^>]*>', html)
        assert len(sheets) <= 1, (page.name, sheets)
    bundle = built_site / "_static" / "styles" / "course-bundle.css"
    assert bundle.stat().st_size < 180_000, "the one stylesheet every page waits for"
    # figures re-encoded with a palette: well under half of what the notebooks store
    stored = sum(len(base64.b64decode(out["data"]["image/png"]))
                 for path in CHAPTER_FILES for cell in json.loads(path.read_text("utf-8"))["cells"]
                 for out in cell.get("outputs", []) if "image/png" in out.get("data", {}))
    served = sum(p.stat().st_size for p in (built_site / "_images").glob("*.png"))
    assert stored and served < 0.45 * stored, (served, stored)


def search_index(site):
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def test_search_index_reads_pages_as_readers_see_them(built_site):
    """A phrase across bold (**截断**反向传播), a link or a formula is indexed whole; formulas
    add their words, not their TeX commands."""
    index = search_index(built_site)
    chapter = index["docnames"].index("chapters/04b_bptt")
    assert "**截断**反向传播" in markdown("chapters/04b_bptt")
    docs = index["terms"].get("断反", [])
    assert chapter in (docs if isinstance(docs, list) else [docs])
    for tex_word in ("mathbf", "ldots", "frac", "qquad"):
        assert tex_word not in index["terms"], tex_word


def test_search_index_holds_chinese_words(built_site):
    index = search_index(built_site)
    cjk_terms = [t for t in index["terms"] if CJK.search(t)]  # none without jieba
    assert len(cjk_terms) > 100
    docs = index["docnames"]
    chapter = docs.index(SEARCH_DOC)
    for word in SEARCH_WORDS:
        assert word in markdown(SEARCH_DOC), f"{word} is not in {SEARCH_DOC}: pick another"
        for pair in (word[i:i + 2] for i in range(len(word) - 1)):
            found = []  # a word of a page title is indexed under titleterms only
            for kind in ("terms", "titleterms"):
                docs_with = index[kind].get(pair, [])
                found += docs_with if isinstance(docs_with, list) else [docs_with]
            assert chapter in found, (word, pair)


def rel(from_doc, to_doc):
    """The relative link from one page to another, as Sphinx writes it."""
    return os.path.relpath(to_doc, os.path.dirname(from_doc) or ".") + ".html"


def links(html):
    return re.findall(r'<a\b[^>]*href="([^"]+)"[^>]*>', html)


REPOSITORY_LINK = re.compile(r"github\.com|gitlab\.com|gitee\.com|codeberg\.org|mybinder\.org|"
                             r"colab\.research\.google\.com")


def test_reader_features_on_every_chapter(built_site):
    entries = toc_entries()
    docs = [doc for doc, _ in entries]
    for i, (doc, number) in enumerate(entries):
        html = (built_site / f"{doc}.html").read_text(encoding="utf-8")
        hrefs = [unquote(h) for h in links(html)]
        depth = "../" * doc.count("/")
        # previous / next page in reading order
        if i > 0:
            assert re.search(rf'<a class="left-prev"\s+href="{re.escape(rel(doc, docs[i - 1]))}"',
                             html), f"{doc}: no link to the previous page"
        if i + 1 < len(docs):
            assert re.search(rf'<a class="right-next"\s+href="{re.escape(rel(doc, docs[i + 1]))}"',
                             html), f"{doc}: no link to the next page"
        if number:
            assert f'<span class="section-number">{number}. </span>' in html, \
                f"{doc}: chapter number {number}"
        # no repository URL known: no repository or launch button, no link to nowhere
        assert not [h for h in hrefs if REPOSITORY_LINK.search(h)], f"{doc}: a repository link"
        # the footer names the licences and links the credits page
        assert f'href="{rel(doc, "credits")}"' in html, f"{doc}: no link to the credits page"
        assert '<link rel="icon" href=' in html and "favicon.svg" in html, f"{doc}: no favicon"
        if source(doc).suffix != ".ipynb":
            continue
        download = f"{depth}_sources/{doc}.ipynb"
        assert download in hrefs, f"{doc}: no .ipynb download"
        assert (built_site / "_sources" / f"{doc}.ipynb").read_bytes() == source(doc).read_bytes()


def test_with_a_repository_url_every_button_leads_to_it(site_with_repository):
    slug = urlsplit(REPO_URL).path.strip("/")
    for doc in REPOSITORY_BUILD_DOCS:
        html = (site_with_repository / f"{doc}.html").read_text(encoding="utf-8")
        hrefs = [unquote(h) for h in links(html)]
        assert REPO_URL in hrefs, f"{doc}: no repository button"
        others = [h for h in hrefs if REPOSITORY_LINK.search(h) and h != REPO_URL]
        if source(doc).suffix != ".ipynb":
            assert not others, (doc, others)
            continue
        binder = f"https://mybinder.org/v2/gh/{slug}/main?urlpath=lab/tree/{doc}.ipynb"
        assert others == [binder], (doc, others)  # Binder, and no Colab (it cannot install)
        # the notebook a reader downloads knows where to install course_utils from
        nb = json.loads((site_with_repository / "_sources" / f"{doc}.ipynb").read_text("utf-8"))
        setup = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
        assert f'os.environ.get("COURSE_REPO_URL", "{REPO_URL}")' in "".join(nb["cells"][setup]["source"])
        original = json.loads(source(doc).read_text("utf-8"))["cells"]
        assert [c["source"] for i, c in enumerate(nb["cells"]) if i != setup] == \
            [c["source"] for i, c in enumerate(original) if i != setup], "only the URL is added"


def test_publishing_is_one_documented_step(built_site):
    """GitHub Pages: a workflow that builds the site as the README does (make site, with -W)
    and deploys _build/html; any other host: that folder as it is. The README says which."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on") or workflow[True]  # YAML 1.1 reads a bare `on` as true
    assert "main" in triggers["push"]["branches"]
    assert {"pages": "write", "id-token": "write"}.items() <= workflow["permissions"].items()
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "").strip() for step in build["steps"]]
    assert "make site" in runs
    recipe = re.search(r"^site:.*\n\t(.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert " -W" in recipe.group(1), recipe.group(1)
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["steps"][0]["uses"].startswith("actions/deploy-pages")
    # the CPU build of torch it installs first is the one the lock pins
    torch = re.search(r"torch==([\d.]+)", "\n".join(runs)).group(1)
    assert f"torch=={torch}\n" in (ROOT / "requirements.txt").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## 发布网站"):]
    section = section[:section.index("\n## ", 3)]
    for needed in (".github/workflows/pages.yml", "GitHub Actions", "_build/html/", "make site"):
        assert needed in section, needed
    assert (built_site / ".nojekyll").is_file()  # a gh-pages branch serves _static/ too


def test_landing_page_links_every_chapter(built_site):
    html = (built_site / "intro.html").read_text(encoding="utf-8")
    article = html[html.index("<article"):html.index("</article>")]
    for doc, number in toc_entries()[1:]:
        assert f'href="{rel("intro", doc)}"' in article, f"the landing page does not link {doc}"


def test_section_anchors_are_readable_and_stable(built_site):
    for doc in toc_docs():
        html = (built_site / f"{doc}.html").read_text(encoding="utf-8")
        ids = re.findall(r'<section\b[^>]*\bid="([^"]+)"', html)
        assert ids, doc
        numbered = [i for i in ids if re.fullmatch(r"id\d+", i)]
        assert not numbered, f"{doc}: sections with numbered ids {numbered}"
        for section_id in ids:  # an anchor named after its heading, in the reader's language
            assert CJK.search(section_id) or section_id.isascii(), section_id


# --------------------------------------------------------------------------- the browser

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = find_chromium()
    if chromium is None:
        reason = ("no browser for the site's browser checks: run `make browser`, or set CHROMIUM "
                  "to a Chromium/Chrome binary")
        if REQUIRE_BROWSER:
            pytest.fail(reason + " (COURSE_REQUIRE_BROWSER=1: CI must run them)")
        pytest.skip(reason)
    import pylopdf_fonts_zh_cn

    # Chinese text shows as boxes unless fontconfig sees a CJK font: add the PyPI font
    # package's folder to the system configuration (no apt font package needed).
    fontdir = Path(pylopdf_fonts_zh_cn.__file__).parent
    conf_dir = tmp_path_factory.mktemp("fontconfig")
    conf = conf_dir / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>{fontdir}</dir>
  <cachedir>{conf_dir / "cache"}</cachedir>
</fontconfig>
""", encoding="utf-8")
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium, env={**os.environ, "FONTCONFIG_FILE": str(conf)},
            # No name resolves: even a request that slipped past the route below fails.
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        yield launched
        launched.close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(built_site):
    """The site served from its folder on 127.0.0.1, as any static host would."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class Reader:
    """One browser context (desktop or phone) that lets through only requests to the
    site itself (base: the server's URL, or file:// for the plain folder) and records
    what a page did."""

    def __init__(self, browser, device, base):
        self.base = base
        self.width = device["viewport"]["width"]
        self.context = browser.new_context(**device)
        self.external, self.errors = [], []
        self.context.route("**/*", self._route)

    def _local(self, url):
        return url.startswith(self.base) or urlsplit(url).scheme in ("data", "blob")

    def _route(self, route):
        if self._local(route.request.url):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def url(self, doc):
        return f"{self.base}{doc}.html"

    def open(self, doc, query="", redirects_to=None):
        self.external.clear()
        self.errors.clear()
        page = self.context.new_page()
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self._local(r.url)
                and self.errors.append(f"{r.url}: {r.failure}"))
        page.on("response", lambda r: r.status >= 400
                and self.errors.append(f"{r.url}: HTTP {r.status}"))
        page.goto(self.url(doc) + query, wait_until="load")
        if redirects_to:
            page.wait_for_url(f"**/{redirects_to}", wait_until="load")
        load_shown_images(page)
        return page


def load_shown_images(page):
    """Figures load lazily: bring each shown one into view as a reader scrolling down would
    (one inside a folded answer loads when the answer is opened)."""
    page.evaluate("""async () => {
      for (const img of document.images) {
        if (!img.checkVisibility()) continue;
        img.scrollIntoView();
        if (!img.complete) await new Promise((r) => { img.onload = img.onerror = r; });
      }
      window.scrollTo(0, 0);
    }""")


@pytest.fixture(scope="module")
def desktop(browser, site_url):
    reader = Reader(browser, DESKTOP, site_url)
    yield reader
    reader.context.close()


@pytest.fixture(scope="module")
def phone(browser, site_url):
    reader = Reader(browser, PHONE, site_url)
    yield reader
    reader.context.close()


# The page's own content (not the navigation, nor the print-only header).
CONTENT = "article.bd-article, .bd-search-container"
# Runs in the page: what the checks need, in one round trip.
PAGE_STATE = """() => {
  const CONTENT = '%s';
  const article = document.querySelector(CONTENT);
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(article || document.body, NodeFilter.SHOW_TEXT);
  const text = [];
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (el && !el.closest(skip)) text.push(walker.currentNode.textContent);
  }
  const h1 = article && article.querySelector('h1');
  return {
    url: location.href,
    h1: h1 ? h1.textContent : null,
    text: text.join(' '),
    math: document.querySelectorAll('.math').length,
    // a formula is MathML that the browser draws as such (a box of its own, not inline text)
    mathUntypeset: [...document.querySelectorAll('.math')]
        .filter((m) => !m.querySelector('math') || [...m.querySelectorAll('math')].some(
            (e) => !getComputedStyle(e).display.endsWith('math')))
        .map((m) => m.textContent.slice(0, 80)),
    mathErrors: document.querySelectorAll('.math merror').length,
    mathScripts: [...document.scripts].filter((e) => /mathjax|katex/i.test(e.src)).length,
    images: [...document.images].map((i) => ({
      src: i.getAttribute('src'), alt: i.getAttribute('alt'), complete: i.complete,
      natural: i.naturalWidth, naturalH: i.naturalHeight, w: i.getBoundingClientRect().width,
      h: i.getBoundingClientRect().height, output: !!i.closest('.cell_output'),
      folded: !i.checkVisibility()})),
    tables: [...document.querySelectorAll('article table')].map((t) => {
      // the nearest box around the table that scrolls sideways (else the article itself)
      let box = t.parentElement;
      while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)
             && !box.matches('article')) box = box.parentElement;
      const first = t.querySelector('tr > :first-child');
      const heads = [...t.querySelectorAll('thead th')];
      return {wide: t.getBoundingClientRect().width > box.clientWidth + 1,
        boxScrolls: ['auto', 'scroll'].includes(getComputedStyle(box).overflowX),
        firstSticky: !first || getComputedStyle(first).position === 'sticky',
        firstShare: first ? first.getBoundingClientRect().width / box.clientWidth : 0,
        headLines: Math.max(0, ...heads.map((h) => h.getBoundingClientRect().height
                                      / parseFloat(getComputedStyle(h).lineHeight || 20)))};
    }),
    clippedOutputs: [...document.querySelectorAll('.cell_output pre')]
        .filter((p) => p.scrollWidth > p.clientWidth + 1
                && !['auto', 'scroll'].includes(getComputedStyle(p).overflowX))
        .map((p) => p.textContent.slice(0, 60)),
    // the interface's own words: not the page's text, nor the titles that navigation lists
    uiLabels: [...document.querySelectorAll('button, a, label, [title], [aria-label], input')]
        .filter((e) => (!e.closest('article.bd-article') || e.closest('.prev-next-area'))
                && !e.closest('nav a, .prev-next-title, .bd-breadcrumbs'))
        .flatMap((e) => [e.getAttribute('title'), e.getAttribute('aria-label'),
                         e.getAttribute('placeholder'),
                         e.offsetParent !== null ? e.textContent.trim() : null])
        .filter((t) => t),
    pageWidth: document.documentElement.scrollWidth,
    viewWidth: window.innerWidth,
    codeCells: document.querySelectorAll('.cell_input div.highlight').length,
    copyButtons: document.querySelectorAll('.cell_input button.copybtn').length,
    // formulas the reader cannot see whole: an inline one past the column's right edge
    // (outside a box that scrolls), a display one wider than its box that does not scroll
    // or does not show that it does (a shadow at the edge: a background that stays put
    // while the formula's own light layers move with it)
    clippedMath: [
      ...[...document.querySelectorAll('article span.math > math')].filter((m) => {
        const column = m.closest('.table-wrapper, .pst-scrollable-table-container, '
            + '.cell_output, article');
        return column.matches('article') && m.checkVisibility()
            && m.getBoundingClientRect().right > column.getBoundingClientRect().right + 1; }),
      ...[...document.querySelectorAll('article div.math')].filter((d) => {
        const s = getComputedStyle(d);
        return d.checkVisibility() && d.scrollWidth > d.clientWidth + 1
            && !(['auto', 'scroll'].includes(s.overflowX)
                 && s.backgroundAttachment.includes('local')
                 && s.backgroundAttachment.includes('scroll')); })]
        .map((m) => Array.from(m.getAttribute('data-text') || m.textContent).slice(0, 60).join('')),
    headings: [...document.querySelectorAll('article :is(h1, h2, h3, h4)')]
        .map((h) => [h.tagName, h.textContent.replace(/#$/, '').trim()]),
    stderr: [...document.querySelectorAll('.cell_output .stderr')]
        .map((e) => e.textContent.trim().slice(0, 200)),
  };
}""" % CONTENT


# Runs in the page, in the given colour mode: links of the page's text whose contrast with
# what is behind them is below WCAG AA's 4.5:1, as [text, ratio].
LINK_CONTRAST = """(theme) => {
  const before = document.documentElement.dataset.theme;
  document.documentElement.dataset.theme = theme;
  const rgb = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = ({r, g, b}) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const behind = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                                                         if (c.a > 0.5) return c; }
                          return rgb(getComputedStyle(document.body).backgroundColor); };
  const weak = [...document.querySelectorAll('article a')]
    .filter((a) => a.checkVisibility() && a.textContent.trim() && !a.matches('.headerlink, .btn'))
    .map((a) => { const l1 = lum(rgb(getComputedStyle(a).color)), l2 = lum(behind(a));
                  return [a.textContent.trim().slice(0, 20), (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05)]; })
    .filter(([, ratio]) => ratio < 4.5);
  document.documentElement.dataset.theme = before;
  return weak;
}"""


def platform_fonts(page, selector):
    """Fonts Chromium really drew the element's text with (family -> glyph count)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return {f["familyName"]: f["glyphCount"] for f in fonts}
    finally:
        cdp.detach()


STATES = {}  # (width, doc) -> PAGE_STATE, as the page tests saw it (the checks below reuse it)


def page_state(reader, doc):
    """PAGE_STATE of doc as this reader sees it: from the page test if it ran, else read now."""
    key = (reader.width, doc)
    if key not in STATES:
        page = reader.open(doc)
        try:
            STATES[key] = page.evaluate(PAGE_STATE)
        finally:
            page.close()
    return STATES[key]


def check_page(reader, doc):
    # index.html only sends the reader on to the landing page
    page = reader.open(doc, redirects_to="intro.html" if doc == "index" else None)
    try:
        state = page.evaluate(PAGE_STATE)
        STATES[reader.width, doc] = state
        assert not reader.external, f"requests to another host: {reader.external}"
        assert not reader.errors, f"console errors: {reader.errors}"
        if doc == "index":  # a redirect to the landing page
            assert state["url"].endswith("/intro.html")
            return page, state
        expected = SPECIAL.get(doc) or headline(doc)
        assert state["h1"] and expected in state["h1"], (state["h1"], expected)
        fonts = platform_fonts(page, CONTENT.replace(",", " h1,") + " h1")
        cjk_glyphs = len(CJK.findall(expected))
        assert sum(n for f, n in fonts.items() if "SC" in f or "CJK" in f) >= cjk_glyphs, \
            f"headline not drawn with a Chinese font: {fonts}"
        # math: every formula typeset, no TeX error, no TeX source left in the text
        assert not state["mathUntypeset"], state["mathUntypeset"]
        assert state["mathErrors"] == 0 and state["mathScripts"] == 0
        raw = RAW_MATH.findall(state["text"])
        assert not raw, f"TeX source left in the text: {raw[:5]}"
        # images: loaded, and a figure says what it shows (not its file name)
        broken = [i["src"] for i in state["images"]
                  if not i["folded"] and not (i["complete"] and i["natural"] > 0)]
        assert not broken, f"images that did not load: {broken}"
        for img in (i for i in state["images"] if i["output"]):
            assert img["alt"].startswith("图：") and ".png" not in img["alt"], img
        # the interface speaks Simplified Chinese: no English label but for names
        english = [t for t in state["uiLabels"] if LATIN_WORD.search(UI_NAMES.sub("", t))]
        assert not english, f"interface labels in English: {sorted(set(english))[:10]}"
        # stored outputs show no warnings (a missing Chinese glyph in a figure is one)
        assert not state["stderr"], f"stderr output on the page: {state['stderr']}"
        # copy buttons on every code cell
        assert state["copyButtons"] == state["codeCells"]
        return page, state
    except BaseException:
        page.close()
        raise


def check_answers_unfold(page):
    """Collapsible answers open on a click: <details> (sphinx-design dropdowns,
    sphinx-togglebutton's toggle directive) and sphinx-togglebutton's dropdown admonitions.
    Returns how many there were."""
    boxes = page.locator("article details")
    for i in range(boxes.count()):
        body = boxes.nth(i).locator(":scope > :not(summary)").first
        expect(body).to_be_hidden()
        boxes.nth(i).locator(":scope > summary").click()
        expect(body).to_be_visible()
    buttons = page.locator("article button.toggle-button")
    for i in range(buttons.count()):
        target = page.locator("#" + buttons.nth(i).get_attribute("data-target"))
        body = target.locator(":scope > :not(.admonition-title)").first
        expect(body).to_be_hidden()
        buttons.nth(i).click()
        expect(body).to_be_visible()
    # the figures that were folded away load now
    load_shown_images(page)
    broken = page.eval_on_selector_all("article img", "(is) => is.filter((i) => !i.complete "
                                       "|| !i.naturalWidth).map((i) => i.getAttribute('src'))")
    assert not broken, f"figures in folded answers that did not load: {broken}"
    return boxes.count() + buttons.count()


@pytest.mark.parametrize("doc", PAGES)
def test_page_in_browser(desktop, phone, doc):
    page, state = check_page(desktop, doc)
    try:
        # Desktop: every table fits the column (no column hidden behind a scroll)
        wide = [t for t in state["tables"] if t["wide"]]
        assert not wide, f"tables wider than the column at 1280 px: {wide}"
        # links readable on every background, in light and in dark mode
        for theme in ("light", "dark"):
            weak = page.evaluate(LINK_CONTRAST, theme)
            assert not weak, f"links below 4.5:1 in {theme} mode: {weak[:3]}"
        unfolded = check_answers_unfold(page)
        if doc.startswith(ANSWERS_PREFIX):
            assert unfolded, "the answers are not collapsible"
    finally:
        page.close()
    page, state = check_page(phone, doc)
    try:
        # Phone: nothing wider than the screen, wide formulas scroll; figures keep their
        # shape and use the screen's width (their labels stay legible).
        assert state["pageWidth"] <= state["viewWidth"], "page scrolls sideways on a phone"
        assert not state["clippedMath"], f"formulas cut off on a phone: {state['clippedMath']}"
        for img in (i for i in state["images"] if i["output"] and i["w"]):  # shown ones
            assert abs(img["w"] / img["h"] - img["natural"] / img["naturalH"]) < 0.02, img
            css_width = img["natural"] / 2  # retina PNG: two pixels per CSS pixel
            assert img["w"] >= min(css_width, state["viewWidth"]) - 1, img
            # the smallest text of a course figure is BASE_FONT_PT points at DPI dots per inch
            # (tests/test_lesson_code.py keeps chapters from setting smaller fonts)
            text_px = plot.BASE_FONT_PT * plot.DPI / 72 * img["w"] / css_width
            assert text_px >= 9, f"{img['src']}: figure text {text_px:.1f} px on a phone"
        for table in state["tables"]:  # a wide table scrolls, its key column stays in view
            assert not table["wide"] or (table["boxScrolls"] and table["firstSticky"]), table
            # ... and leaves most of the screen to the columns that scroll
            assert not table["wide"] or table["firstShare"] <= 0.4, table
            assert table["headLines"] < 2.5, f"a header squeezed to one character per line: {table}"
        assert not state["clippedOutputs"], f"output lines cut off: {state['clippedOutputs']}"
    finally:
        page.close()


def test_pages_work_from_a_plain_folder(browser, built_site):
    """Opened straight from the folder (file://, no server): the same checks pass. (The
    search page there lists results without text snippets: Chromium refuses the fetch()
    Sphinx uses to read them from file:// pages.)"""
    reader = Reader(browser, DESKTOP, built_site.as_uri() + "/")
    try:
        for doc in ("index", toc_docs()[0], SHOT_DOC):
            page, _ = check_page(reader, doc)
            page.close()
    finally:
        reader.context.close()


# What students type, the page that must come first (None: nothing at all) and the whole
# term that its snippet must mark.
SEARCHES = [
    # terms as other books, or English, write them (the glossary's second and third columns)
    ("n 元语法", "chapters/03_language_models", "元语法"),
    ("n元语法", "chapters/03_language_models", "元语法"),
    ("n元", "chapters/03_language_models", None),
    ("潜变量", "chapters/01_sequence_models", None),
    ("隐藏状态", "chapters/04_rnn", "隐状态"),
    ("马尔科夫", "chapters/01_sequence_models", "马尔可夫假设"),
    ("RNN", "chapters/04_rnn", "循环神经网络"),
    ("one-hot", "chapters/05_rnn_scratch", "独热编码"),
    ("hidden state", "chapters/04_rnn", "隐状态"),
    ("梯度裁剪", "chapters/04b_bptt", "梯度裁剪"),
    ("候选隐状态", "chapters/07_gru", "候选隐状态"),
    ("记忆元", "chapters/08_lstm", "记忆元"),
    ("温度采样", "chapters/05_rnn_scratch", "温度采样"),
    ("齐普夫定律", "chapters/03_language_models", "齐普夫定律"),
    # phrases that run across bold text: the page writes **截断**反向传播
    ("截断反向传播", "chapters/04b_bptt", "截断"),
    ("行拼接之后", "chapters/04_rnn", "行拼接之后"),
    ("从后往前的递推", "chapters/04b_bptt", "从后往前的递推"),
    ("接续次数是什么", "chapters/03b_kneser_ney", "接续次数"),
    # questions
    ("什么是困惑度", "chapters/04_rnn", "困惑度"),
    ("困惑度怎么计算", "chapters/04_rnn", "困惑度"),
    ("随机采样和顺序分区的区别", "chapters/03_language_models", "随机采样"),
    ("梯度爆炸怎么办", "chapters/04b_bptt", "梯度爆炸"),
    ("为什么要梯度裁剪", "chapters/04b_bptt", "梯度裁剪"),
    ("对梯度消失无能为力", "chapters/04b_bptt", "梯度消失"),
    ("GRU和LSTM的区别", "chapters/08_lstm", "长短期记忆网络"),
    ("重置门的作用", "chapters/07_gru", "重置门"),
    ("遗忘门是什么", "chapters/08_lstm", "遗忘门"),
    ("预热是什么意思", "chapters/05_rnn_scratch", "预热"),
    ("深层循环神经网络和双向循环神经网络的区别", "chapters/10_deep_bidirectional", "双向循环神经网络"),
    (NOT_IN_COURSE, None, None),
]
SEARCH_IDS = [q for q, _, _ in SEARCHES]


@pytest.fixture(scope="module")
def search_page(desktop):
    """The search page, loaded once with its index; each query is then run as the page runs
    the one in its address (Search.performSearch), with the address set to it."""
    page = desktop.open("search")
    page.wait_for_function("() => Search.hasIndex()")
    yield page
    page.close()


def search(reader, page, query):
    """[(page path, snippet, [marked words]), ...] of the results, in order."""
    reader.errors.clear()
    page.evaluate("""(q) => {
        history.replaceState({}, '', '?q=' + encodeURIComponent(q));
        document.getElementById('search-results').replaceChildren();
        Search.performSearch(q); }""", query)
    page.wait_for_function("""() => {
        const summary = document.querySelector('#search-results .search-summary');
        const items = [...document.querySelectorAll('#search-results ul.search li')];
        return summary && summary.textContent && items.every((li) => li.querySelector('p.context'));
    }""")
    found = page.eval_on_selector_all("#search-results ul.search li", """(items) => items.map((li) => [
        new URL(li.querySelector('a').href).pathname,
        li.querySelector('p.context').textContent,
        [...li.querySelectorAll('p.context .highlighted')].map((h) => h.textContent)])""")
    assert not reader.errors and not reader.external
    return found


@pytest.mark.parametrize("query,first,marked", SEARCHES, ids=SEARCH_IDS)
def test_search_finds_what_students_type(desktop, search_page, query, first, marked):
    found = search(desktop, search_page, query)
    if first is None:
        assert found == []
        return
    assert found and found[0][0].endswith(f"/{first}.html"), (query, [f[0] for f in found[:3]])
    _page, snippet, highlighted = found[0]
    assert not RAW_MATH.search(snippet) and "目录" not in snippet[:20], snippet[:120]
    if marked:  # the whole term, not the character pairs it was found by
        assert marked.lower() in [h.lower() for h in highlighted], (highlighted, snippet[:160])
    assert all(len(h) >= 2 for h in highlighted), highlighted


def test_search_snippets_keep_formulas_as_text(desktop, search_page):
    """A snippet reads as the page does: its formulas as plain text, no holes."""
    _page, snippet, _ = search(desktop, search_page, "行拼接之后")[0]
    assert "XₜWₓₕ+Hₜ₋₁Wₕₕ 可以写成" in snippet, snippet


def test_search_page_shows_at_once_and_fetches_its_index_after(browser, site_url):
    """The index (hundreds of KB) is fetched once the page has loaded: a phone shows the page,
    its field and a Chinese 'searching' note meanwhile; the magnifier leaves the query legible."""
    reader = Reader(browser, PHONE, site_url)
    held = []
    reader.context.route("**/searchindex.js", lambda route: held.append(route))  # held back
    try:
        page = reader.open("search", query="?q=" + quote("截断反向传播"))
        assert held and page.evaluate("() => !Search.hasIndex()")
        expect(page.locator("#search-results h2")).to_contain_text("正在搜索")
        expect(page.locator(".bd-search-container input[name=q]")).to_have_value("截断反向传播")
        icon, field = page.evaluate("""() => {
            const form = document.querySelector('.bd-search-container form.bd-search');
            const input = form.querySelector('input');
            return [form.querySelector('svg').getBoundingClientRect().right,
                    input.getBoundingClientRect().left + parseFloat(getComputedStyle(input).paddingLeft)]; }""")
        assert icon <= field, f"the magnifier covers the query ({icon:.0f} > {field:.0f} px)"
        held.pop().continue_()
        page.wait_for_function("() => (document.querySelector('#search-results .search-summary') "
                               "|| {}).textContent")
        expect(page.locator("#search-results .search-summary")).to_contain_text("搜索完成")
        started, loaded = page.evaluate("""() => [
            performance.getEntriesByType('resource').find((e) => e.name.includes('searchindex.js')).startTime,
            performance.getEntriesByType('navigation')[0].loadEventStart]""")
        assert started >= loaded
        assert not reader.errors and not reader.external
    finally:
        reader.context.close()


def test_a_page_opened_from_a_search_result_marks_whole_terms(desktop):
    """The result's page marks the phrase whole, across the bold it runs into, and offers
    a Chinese button that removes the marks."""
    page = desktop.open("search", query="?q=" + quote("截断反向传播"))
    try:
        page.wait_for_function("() => document.querySelector('#search-results li a')")
        page.locator("#search-results li a").first.click()
        page.wait_for_url("**/chapters/04b_bptt.html*")
        page.wait_for_function("() => document.querySelector('article .highlighted')")
        marked = page.eval_on_selector_all("article .highlighted", "(hs) => hs.map((h) => h.textContent)")
        assert "截断反向传播" in "".join(marked) and all(len(m) >= 2 for m in marked), marked
        button = page.locator("article .course-search-matches button")
        expect(button).to_have_text("隐藏搜索结果")
        button.click()
        expect(page.locator("article .highlighted")).to_have_count(0)
        assert not desktop.errors and not desktop.external
    finally:
        page.close()


def test_search_index_has_synonyms_from_the_glossary(built_site):
    glossary = markdown("glossary").replace(" ", "").lower()
    for query in ("n 元语法", "n元", "潜变量", "隐藏状态", "马尔科夫", "RNN", "one-hot", "hidden state"):
        assert query.replace(" ", "").lower() in glossary, f"{query} is not in the glossary"


# On narrow screens the theme shows a sidebar as a drawer (a <dialog> it moves the sidebar's
# contents into); on wide ones the sidebar itself. Either way: where is it, is it seen?
NAV_STATE = """() => {
  const box = (...sels) => {
    for (const sel of sels) {
      const e = document.querySelector(sel); if (!e) continue;
      const r = e.getBoundingClientRect(), s = getComputedStyle(e);
      if (r.width > 0 || sel === sels[sels.length - 1])
        return {x: r.x, w: r.width, visible: s.visibility === 'visible' && r.width > 0};
    }
    return null; };
  return {primary: box('#pst-primary-sidebar-modal[open]', '#pst-primary-sidebar'),
          secondary: box('#pst-secondary-sidebar-modal[open]', '.bd-sidebar-secondary'),
          width: window.innerWidth};
}"""


def on_screen(box, width):
    return box["visible"] and box["x"] >= -1 and box["x"] + box["w"] <= width + 1


@pytest.mark.parametrize("width", [375, 800])
def test_phone_and_tablet_readers_can_open_both_drawers(browser, site_url, width):
    device = {"viewport": {"width": width, "height": 800}, "has_touch": True,
              "is_mobile": width < 500}
    reader = Reader(browser, device, site_url)
    try:
        page = reader.open("chapters/04_rnn")
        state = page.evaluate(NAV_STATE)
        assert not on_screen(state["primary"], width) and not on_screen(state["secondary"], width)
        page.locator("button.primary-toggle:visible").first.tap()
        page.wait_for_timeout(500)
        assert on_screen(page.evaluate(NAV_STATE)["primary"], width), "☰ did not open the chapters"
        page.locator("dialog[open] a:visible, #pst-primary-sidebar a:visible",
                     has_text="门控循环单元").first.tap()
        page.wait_for_url("**/chapters/07_gru.html")
        page.close()
        page = reader.open("chapters/04_rnn")
        page.locator("button.secondary-toggle:visible").first.tap()
        page.wait_for_timeout(500)
        assert on_screen(page.evaluate(NAV_STATE)["secondary"], width), "the contents did not open"
        page.locator("dialog[open] a:visible, .bd-sidebar-secondary a:visible",
                     has_text="困惑度").first.tap()
        page.wait_for_function("() => location.hash.includes('困惑度') || "
                               "decodeURIComponent(location.hash).includes('困惑度')")
        if width < 1200:  # a drawer: it closes, and the section is there to read
            page.wait_for_timeout(500)
            assert not on_screen(page.evaluate(NAV_STATE)["secondary"], width), \
                "the contents drawer stays open over the section"
            heading = page.locator("article h2", has_text="困惑度").first
            expect(heading).to_be_in_viewport()
        page.close()
        assert not reader.errors and not reader.external
    finally:
        reader.context.close()


def test_desktop_menu_button_hides_and_shows_the_chapter_list(desktop):
    page = desktop.open("chapters/04_rnn")
    try:
        assert on_screen(page.evaluate(NAV_STATE)["primary"], 1280)
        page.locator("button.primary-toggle:visible").first.click()
        page.wait_for_timeout(500)
        assert not on_screen(page.evaluate(NAV_STATE)["primary"], 1280), "☰ did not hide it"
        page.locator("button.primary-toggle:visible").first.click()
        page.wait_for_timeout(500)
        assert on_screen(page.evaluate(NAV_STATE)["primary"], 1280), "☰ did not bring it back"
    finally:
        page.close()


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_header_buttons_are_finger_sized_and_show_keyboard_focus(browser, site_url, device):
    """☰, download, full screen, colour mode, search and contents: 44 x 44 px each, and each
    shows a focus ring when reached with the keyboard (Tab)."""
    reader = Reader(browser, device, site_url)
    try:
        page = reader.open("chapters/04_rnn")
        seen = []
        for _ in range(80):  # through the chapter list (desktop) to the buttons over the page
            page.keyboard.press("Tab")
            focus = page.evaluate("""() => { const e = document.activeElement;
                if (!e.closest('.bd-header-article')) return null;
                const s = getComputedStyle(e), r = e.getBoundingClientRect();
                const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                    || /rgb[^)]*\\) 0px 0px 0px [2-9]/.test(s.boxShadow);
                return [e.getAttribute('aria-label') || e.title || e.textContent.trim(), ring, r.width, r.height]; }""")
            if focus:
                seen.append(focus)
            elif seen:
                break
        assert len(seen) >= 4, seen  # ☰, download, full screen, colour mode (+ search, contents)
        assert all(ring for _, ring, _, _ in seen), [name for name, ring, _, _ in seen if not ring]
        small = [(name, round(w), round(h)) for name, _, w, h in seen if w < 44 or h < 44]
        assert not small, f"tap targets under 44 x 44 px: {small}"
        assert not reader.errors and not reader.external
    finally:
        reader.context.close()


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_one_tap_switches_between_light_and_dark(browser, site_url, device):
    reader = Reader(browser, device, site_url)
    try:
        page = reader.open("chapters/04_rnn")
        button = page.locator(".bd-header-article .theme-switch-button:visible").first
        theme = lambda: page.evaluate("() => document.documentElement.dataset.theme")  # noqa: E731
        assert theme() == "light"
        for expected in ("dark", "light", "dark"):
            button.tap() if device is PHONE else button.click()
            assert theme() == expected, f"one tap did not switch to {expected}"
        page.reload(wait_until="load")
        assert theme() == "dark", "the choice is not kept"
        assert not reader.errors and not reader.external
    finally:
        reader.context.close()


# Figures whose alt text the page's own notebook must give (cell metadata mystnb.image.alt),
# because the code that draws them sets no title that tells them apart.
PENDING_ALT = {}  # pages whose figures still need their own alt text (none now)
FIGURE_DOCS = [d for d in toc_docs() if source(d).suffix == ".ipynb" and any(
    "image/png" in o.get("data", {}) for c in json.loads(source(d).read_text("utf-8"))["cells"]
    for o in c.get("outputs", []))]


@pytest.mark.parametrize("doc", [pytest.param(d, marks=pytest.mark.xfail(strict=True, reason=PENDING_ALT[d]))
                                 if d in PENDING_ALT else d for d in FIGURE_DOCS])
def test_each_figure_says_what_it_shows(desktop, doc):
    """Read by a screen reader one after another, a page's figure descriptions tell the figures
    apart, and none has a gap where a value was left out ("T = …")."""
    alts = [i["alt"] for i in page_state(desktop, doc)["images"] if i["output"]]
    assert alts
    repeated = sorted({a for a in alts if alts.count(a) > 1})
    assert not repeated, f"figures with the same description: {repeated}"
    gaps = [a for a in alts if re.search(r"…|\{|=\s*[）)，,]", a)]
    assert not gaps, f"descriptions with a gap: {gaps}"


@pytest.mark.parametrize("doc", [d for d in toc_docs() if d.startswith(ANSWERS_PREFIX)])
def test_answer_pages_give_each_chapter_the_same_level(desktop, doc):
    """In the page's outline (what a screen reader's heading list shows) every "第 N 章"
    section of an answers page is a section of the page, side by side."""
    levels = {tag for tag, text in page_state(desktop, doc)["headings"] if re.match(r"第 \d+ 章", text)}
    assert levels <= {"H2"}, page_state(desktop, doc)["headings"]


def longest_chapter():
    """The chapter with the most text: its cells and their text outputs (07_gru: 25 A4 pages)."""
    def length(doc):
        cells = json.loads(source(doc).read_text(encoding="utf-8"))["cells"]
        return sum(len("".join(c["source"])) + sum(
            len("".join(o.get("text", ""))) + len("".join(o.get("data", {}).get("text/plain", "")))
            for o in c.get("outputs", [])) for c in cells)
    return max((d for d in toc_docs() if source(d).suffix == ".ipynb"
                and not d.startswith(ANSWERS_PREFIX)), key=length)


# Every answers page (a teacher prints them as an answer key) and the longest chapter.
PRINT_DOCS = [d for d in toc_docs() if d.startswith(ANSWERS_PREFIX)] + [longest_chapter()]


@pytest.mark.parametrize("doc", PRINT_DOCS)
def test_printout_keeps_every_line_and_column(desktop, tmp_path, doc):
    """Printed to an A4 PDF and read back page by page: every code and output line and every
    table cell whole (nothing cut at the right edge), no empty box left at a page's foot, no
    fold controls; every folded answer and code cell printed unfolded, figures included, and
    folded again afterwards."""
    page = desktop.open(doc)
    try:
        # each fold's first paragraph or code, with formulas, quotes and brackets as cuts
        # (a PDF gives their text back differently): its longest piece is looked for
        folds = page.eval_on_selector_all("article details", """(ds) => ds.map((d) => {
            const fold = d.querySelector(':scope > :not(summary)');
            const body = (fold.querySelector('p, pre') || fold).cloneNode(true);
            body.querySelectorAll('.math').forEach((m) => m.replaceWith('\\0'));
            return body.textContent; })""")
        figures = page.eval_on_selector_all(  # raster figures (an SVG diagram prints as drawing)
            "article img", "(is) => is.filter((i) => !/\\.svg$/.test(i.src)).length")
        pdf = tmp_path / "page.pdf"
        printed = site_measure.printout(page, pdf)
        still_folded = page.eval_on_selector_all("article details:not([open])", "(ds) => ds.length")
    finally:
        page.close()
    assert printed["code_lines"] > 0
    assert not printed["cut_lines"], f"{len(printed['cut_lines'])} code lines cut: {printed['cut_lines'][:3]}"
    assert not printed["lost_cells"], f"table cells missing: {printed['lost_cells'][:5]}"
    assert not printed["empty_boxes"], f"empty boxes (page, box): {printed['empty_boxes']}"
    assert not printed["chrome"], f"fold controls printed: {printed['chrome'][:3]}"
    reader = PdfReader(str(pdf))
    text = printed["text"]
    runs = [max(re.split(r"[\0“”‘’\"'()（）]", site_measure.squeeze(f)), key=len)[:12] for f in folds]
    missing = [r for r in runs if not re.search(site_measure.pdf_pattern(r), text)]
    assert not missing, f"{len(missing)} folded blocks missing from the printout, e.g. {missing[:2]}"
    assert still_folded == len(folds), "after printing, the page is folded again"
    # the figures of folded answers print too (they load lazily, when shown)
    assert sum(len(p.images) for p in reader.pages) >= figures
    if doc.startswith(ANSWERS_PREFIX):
        assert len(folds) >= 1, "an answers page with no folded answer"


def test_first_visit_stays_light(browser, site_url):
    """The bytes a phone downloads on a first visit to each page (empty cache, up to the
    load event). Times on a throttled network are in bench/page_weight.md (make bench)."""
    heaviest = {}
    for doc in toc_docs():
        m = site_measure.measure(browser, site_url + doc + ".html", throttle=False)
        heaviest[doc] = m
        assert m["bytes"] < PAGE_BUDGET_BYTES, f"{doc}: {m['bytes']:,} bytes on a first visit"
    doc = max(heaviest, key=lambda d: heaviest[d]["bytes"])
    assert heaviest[doc]["requests"] < 40, heaviest[doc]


def test_screenshots(browser, site_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, device in (("desktop", DESKTOP), ("phone", PHONE)):
        reader = Reader(browser, device, site_url)
        try:
            for label, doc in (("landing", toc_docs()[0]), ("chapter", SHOT_DOC)):
                page = reader.open(doc)
                page.screenshot(path=str(SHOTS / f"{label}-{name}.png"))
                if label == "chapter" and page.locator(".cell_output img").count():
                    page.locator(".cell_output img").first.evaluate("(e) => e.scrollIntoView()")
                    page.screenshot(path=str(SHOTS / f"{label}-{name}-figure.png"))
                page.close()
            assert not reader.errors and not reader.external
        finally:
            reader.context.close()
