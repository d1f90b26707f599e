"""The published site, checked the way a reader meets it.

The site is built once (into _build/html, what `make site` publishes) with warnings as
errors. Then every page is opened in headless Chromium (Debian's package, driven by
Playwright), served from the folder on 127.0.0.1 with every other request blocked, at a
desktop and a 375 px phone width, and checked: no console error, no request to another
host, math typeset, the page's Chinese headline drawn with a Chinese font, every image
loaded, figures readable on the phone, code cells with copy buttons, answers that unfold.
The search page must find Chinese words taken from a chapter; pages opened straight from
the folder (file://) must work too. Screenshots go to _build/screenshots/.

All of it lives in this one module so that pytest-xdist (--dist loadfile) runs it on one
worker and the site is built once.
"""
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
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parent.parent
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
NOT_IN_COURSE = "鸭嘴兽"  # a word no page has: the search must not return everything
QUIZ_DOC = "chapters/08_quiz_answers"  # its answers are collapsed until clicked

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}

CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
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


def repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/"), config["repository"]["branch"]


# Every page a reader can reach: the toc's pages, the redirect, search and index pages.
SPECIAL = {"index": None, "search": "搜索", "genindex": "索引"}
PAGES = toc_docs() + list(SPECIAL)


# --------------------------------------------------------------------------- the build

@pytest.fixture(scope="module")
def built_site():
    jb = Path(sys.executable).with_name("jupyter-book")
    # From scratch: no page left over from an earlier toc, and (--all) a warning in a page
    # that an earlier build left unchanged fails again.
    shutil.rmtree(SITE, ignore_errors=True)
    proc = subprocess.run([str(jb), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    return SITE


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


def test_mathjax_3_is_served_from_the_site_once_per_page(built_site):
    entry = built_site / "_static" / "mathjax" / "tex-chtml.js"
    assert entry.is_file()
    assert list((built_site / "_static" / "mathjax" / "output" / "chtml" / "fonts"
                 / "woff-v2").glob("*.woff"))
    math_pages = [p for p in built_site.rglob("*.html") if 'class="math' in p.read_text("utf-8")]
    assert math_pages, "no page has math"
    for page in math_pages:
        assert page.read_text(encoding="utf-8").count("mathjax/tex-chtml.js") == 1, page.name


def search_index(site):
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


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


def test_reader_features_on_every_chapter(built_site):
    repo, branch = repository()
    slug = urlsplit(repo).path.strip("/")
    entries = toc_entries()
    docs = [doc for doc, _ in entries]
    for i, (doc, number) in enumerate(entries):
        html = (built_site / f"{doc}.html").read_text(encoding="utf-8")
        hrefs = [unquote(h) for h in links(html)]
        depth = "../" * doc.count("/")
        assert repo in hrefs, f"{doc}: no repository link"
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
        if source(doc).suffix != ".ipynb":
            continue
        # download of the notebook itself, launch buttons for this repository
        download = f"{depth}_sources/{doc}.ipynb"
        assert download in hrefs, f"{doc}: no .ipynb download"
        assert (built_site / "_sources" / f"{doc}.ipynb").read_bytes() == source(doc).read_bytes()
        assert f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/{doc}.ipynb" in hrefs
        assert f"https://colab.research.google.com/github/{slug}/blob/{branch}/{doc}.ipynb" \
            in hrefs
        assert "copybutton.js" in html


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
        # MathJax typesets after load; its promise settles when the page is done.
        page.evaluate("async () => { if (window.MathJax && MathJax.startup)"
                      " await MathJax.startup.promise; }")
        return page


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
    mathUntypeset: [...document.querySelectorAll('.math')]
        .filter((m) => !m.querySelector('mjx-container')).map((m) => m.textContent.slice(0, 80)),
    mathErrors: document.querySelectorAll('mjx-merror').length,
    mathjax: window.MathJax && MathJax.version,
    images: [...document.images].map((i) => ({
      src: i.getAttribute('src'), complete: i.complete, natural: i.naturalWidth,
      naturalH: i.naturalHeight, w: i.getBoundingClientRect().width,
      h: i.getBoundingClientRect().height, output: !!i.closest('.cell_output')})),
    pageWidth: document.documentElement.scrollWidth,
    viewWidth: window.innerWidth,
    codeCells: document.querySelectorAll('.cell_input div.highlight').length,
    copyButtons: document.querySelectorAll('.cell_input button.copybtn').length,
    // formulas wider than their box that the reader cannot scroll to see
    clippedMath: [...document.querySelectorAll('span.math, div.math mjx-container')]
        .filter((m) => m.scrollWidth > m.clientWidth + 1
                && !['auto', 'scroll'].includes(getComputedStyle(m).overflowX))
        .map((m) => m.textContent.slice(0, 80)),
    stderr: [...document.querySelectorAll('.cell_output .stderr')]
        .map((e) => e.textContent.trim().slice(0, 200)),
  };
}""" % CONTENT


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


def check_page(reader, doc):
    # index.html only sends the reader on to the landing page
    page = reader.open(doc, redirects_to="intro.html" if doc == "index" else None)
    try:
        state = page.evaluate(PAGE_STATE)
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
        assert state["mathErrors"] == 0
        if state["math"]:
            assert state["mathjax"].startswith("3.")
        raw = RAW_MATH.findall(state["text"])
        assert not raw, f"TeX source left in the text: {raw[:5]}"
        # images
        broken = [i["src"] for i in state["images"] if not (i["complete"] and i["natural"] > 0)]
        assert not broken, f"images that did not load: {broken}"
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
    return boxes.count() + buttons.count()


@pytest.mark.parametrize("doc", PAGES)
def test_page_in_browser(desktop, phone, doc):
    page, _ = check_page(desktop, doc)
    try:
        unfolded = check_answers_unfold(page)
        if doc == QUIZ_DOC:
            assert unfolded, "the quiz answers are not collapsible"
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


def test_search_finds_chinese_words_from_a_chapter(desktop, built_site):
    for word in SEARCH_WORDS + [NOT_IN_COURSE]:
        page = desktop.open("search", query=f"?q={word}")
        try:
            page.wait_for_function("() => (document.querySelector('#search-results "
                                   ".search-summary') || {}).textContent")
            found = page.eval_on_selector_all("#search-results ul.search li a",
                                              "(as) => as.map((a) => a.href)")
            assert not desktop.errors and not desktop.external
        finally:
            page.close()
        if word == NOT_IN_COURSE:
            assert found == []
        else:
            assert any(f"/{SEARCH_DOC}.html" in href for href in found), (word, found)


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
