"""A first visit to the site's pages on a slow network, measured in a real browser.

Each page is opened in a fresh browser context (empty cache) throttled with Chromium's own
network emulation: 400 kbit/s down and up, 400 ms latency; the site is served from its
folder on 127.0.0.1 without compression, as a plain static host would; the CPU runs 2x
slower, as a phone's would. For each page: the bytes and requests of the first visit up to the
load event, the first contentful paint, the load event and when every formula is readable.
tests/test_site.py checks the budgets with these numbers; `make bench` (bench/page_weight.py)
writes them as the table on the benchmark page.

A page's printout: printed to an A4 PDF, whose text and drawing are checked page by page
against the page (every code line and table cell whole, no empty box, no fold controls).
"""
import contextlib
import functools
import http.server
import re
import threading
import unicodedata

from playwright.sync_api import TimeoutError as PlaywrightTimeout

KBIT = 1000 / 8  # bytes per second in one kbit/s
THROTTLE = {"offline": False, "latency": 400, "downloadThroughput": 400 * KBIT,
            "uploadThroughput": 400 * KBIT}
CPU_SLOWDOWN = 2  # a phone's CPU: Chromium runs the page's scripts and layout 2x slower
FCP_BUDGET_S, LOAD_BUDGET_S = 6.0, 30.0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    """The folder served on 127.0.0.1 (a free port); yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# Runs in the page from its first byte: when did formulas become readable, that is, from
# when on was no formula in the page left as TeX source waiting for a script to typeset it?
# At the first paint if there never was one (formulas written as MathML, or no formulas).
MATH_WATCH = """(() => {
  const typeset = () => [...document.querySelectorAll('.math')].every(
      (m) => m.querySelector('mjx-container, math'));
  let ready = null, first = true;
  const look = () => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    if (fcp) {
      if (!typeset()) ready = null;
      else if (ready === null) ready = first ? fcp.startTime : performance.now();
      first = false;
      if (document.readyState === 'complete' && ready !== null) {
        window.__mathReady = ready;
        return;
      }
    }
    setTimeout(look, 20);
  };
  look();
})();"""

TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {fcp: fcp ? fcp.startTime : null, load: nav.loadEventEnd,
          math: window.__mathReady || null,
          formulas: document.querySelectorAll('.math').length};
}"""


def measure(browser, url, throttle=True, viewport=None):
    """{'bytes', 'requests', 'fcp_s', 'load_s', 'math_s', 'formulas'} of a first visit to
    `url` (math_s: when every formula is readable; None if that had not happened by the load
    event and 60 s later)."""
    context = browser.new_context(viewport=viewport or {"width": 375, "height": 812})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    sizes = {}
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttle:
        cdp.send("Network.emulateNetworkConditions", THROTTLE)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.add_init_script(MATH_WATCH)
    try:
        page.goto(url, wait_until="load", timeout=180_000)
        page.wait_for_timeout(200)  # the last loadingFinished events
        loaded = {"bytes": sum(sizes.values()), "requests": len(sizes)}
        try:
            page.wait_for_function("() => window.__mathReady", timeout=60_000)
        except PlaywrightTimeout:
            pass  # reported as None
        timings = page.evaluate(TIMINGS)
        return {**loaded,
                "fcp_s": round((timings["fcp"] or 0) / 1000, 2),
                "load_s": round(timings["load"] / 1000, 2),
                "math_s": round(timings["math"] / 1000, 2) if timings["math"] else None,
                "formulas": timings["formulas"]}
    finally:
        context.close()


def render(rows):
    """Markdown table of {page title: measurement} for the benchmark page."""
    lines = ["| 页面 | 首次访问的字节 | 请求数 | 首次内容绘制（秒） | 公式可读（秒） | 加载完成（秒） |",
             "|---|---:|---:|---:|---:|---:|"]
    for title, m in rows.items():
        math = f"{m['math_s']:.1f}" if m.get("formulas") else "—"
        lines.append(f"| {title} | {m['bytes'] / 1024:,.0f} KB | {m['requests']} | "
                     f"{m['fcp_s']:.1f} | {math} | {m['load_s']:.1f} |")
    lines += ["", f"测量条件：Chromium 的网络模拟，下行与上行 400 kbit/s、延迟 400 毫秒，CPU 放慢为 "
                  f"{CPU_SLOWDOWN} 倍，不压缩、不用缓存，375 px 宽的手机视口；“公式可读”是页面上的公式"
                  f"全部以排好的形式显示的时刻（“—”：这一页没有公式）。预算是首次内容绘制不超过 "
                  f"{FCP_BUDGET_S:.0f} 秒、加载完成不超过 {LOAD_BUDGET_S:.0f} 秒。", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- print

A4 = {"format": "A4"}  # the margins are the page's own (@page in _static/course.css)
# Runs in the page: what the printout must hold, from the page as printed (print media).
PRINTED_PARTS = """() => {
  const shown = (e) => e.checkVisibility();
  const lines = [...document.querySelectorAll('article pre')].filter(shown).map(
      (pre) => pre.textContent.split('\\n').map((l) => l.trim()).filter((l) => l));
  const cells = [...document.querySelectorAll('article table')].filter(shown).map(
      (t) => [...t.querySelectorAll('th, td')].map((c) => c.textContent.trim()).filter((c) => c));
  // the folds' own controls: labels such as 显示代码单元, chevrons, toggle buttons
  const chrome = [...document.querySelectorAll(
      'details.hide > summary, .sd-summary-state-marker, button.toggle-button, '
      + 'button.copybtn, .headerlink')]
      .filter(shown).map((e) => e.outerHTML.slice(0, 80));
  return {codeBlocks: lines, tables: cells, chrome};
}"""


def squeeze(text):
    """Text as a PDF gives it back, for comparison: NFKC (a PDF's text uses compatibility
    glyphs such as U+2F6C for 目), and no white space (a wrapped line breaks anywhere)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pdf_pattern(text):
    """A regex for text as a PDF extracts it: some Han characters come out as CJK radicals
    (U+2E80-U+2EFF, such as ⻅ for 见) that no Unicode normalization maps back, and the digits
    of a formula's superscript on the same line (10⁶) may come out between two of them."""
    return "".join(f"(?:{re.escape(c)}|[\u2e80-\u2eff])\\d{{0,3}}" if "\u4e00" <= c <= "\u9fff"
                   else re.escape(c) for c in squeeze(text))


def printout(page, pdf_path):
    """Print the page to an A4 PDF and check the PDF, page by page, against the page:
    {'pages', 'code_lines', 'cut_lines' (code lines not wholly in the PDF's text: cut at the
    right edge), 'cut_blocks', 'table_cells', 'lost_cells' (table cells missing), 'empty_boxes'
    ([(pdf page, box)]: a box drawn on a page with nothing in it), 'chrome' (fold controls that
    would print), 'text' (the PDF's text, squeezed)}."""
    from pypdf import PdfReader

    page.pdf(path=str(pdf_path), **A4)
    page.emulate_media(media="print")
    try:
        parts = page.evaluate(PRINTED_PARTS)
    finally:
        page.emulate_media(media="screen")
    reader = PdfReader(str(pdf_path))
    scans = [read_page(p) for p in reader.pages]
    text = squeeze("".join(t for t, _ in scans))
    cut = [[line for line in block if not re.search(pdf_pattern(line), text)]
           for block in parts["codeBlocks"]]
    # a cell's text may wrap inside the cell, between its neighbours' lines: each of its
    # numbers, words and Chinese characters must be there
    lost = [cell for table in parts["tables"] for cell in table
            if not all(re.search(pdf_pattern(atom), text) for atom in re.findall(
                r"\d+(?:\.\d+)?|[A-Za-z_]+|[\u3400-\u9fff]", cell))]
    empty = [(n + 1, box) for n, (_, boxes) in enumerate(scans) for box in boxes]
    return {"pages": len(reader.pages),
            "code_lines": sum(map(len, parts["codeBlocks"])),
            "cut_lines": [line for block in cut for line in block],
            "cut_blocks": sum(1 for block in cut if block),
            "table_cells": sum(map(len, parts["tables"])), "lost_cells": lost,
            "empty_boxes": empty, "chrome": parts["chrome"], "text": text}


def _mul(a, b):
    """The affine map a, then b (PDF matrices [a b c d e f])."""
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def _at(m, x, y):
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def read_page(pdf_page, min_height=30, min_width_share=0.6):
    """One pass over a PDF page: (its text, line by line top to bottom, [empty boxes]).

    Text: a browser draws a box's text after what surrounds it, so the order of drawing is
    not the order of reading; lines are put in order of height (a line's sub- and
    superscripts sit a few points off its baseline, lines are 12 or more apart), and within
    a line the text stays in the order it was drawn (positions within a line are not
    reliable enough to sort by).

    Empty boxes: filled boxes (a code cell's or an answer's background) at least min_height
    points high and min_width_share of the page wide, inside what the page shows (its clip),
    with nothing drawn in them, no text, image, line or small shape (a diagram's lines and
    glyphs): what is left where a box's content moved on to the next page."""
    top, right = float(pdf_page.mediabox.height), float(pdf_page.mediabox.width)
    runs, fills, marks, path = [], [], [], []
    state = {"clip": (0, 0, right, top), "stack": [], "pending_clip": False}

    def bbox(points):
        xs, ys = [q[0] for q in points], [q[1] for q in points]
        return min(xs), min(ys), max(xs), max(ys)

    def clipped(box, clip):
        return (max(box[0], clip[0]), max(box[1], clip[1]),
                min(box[2], clip[2]), min(box[3], clip[3]))

    def operator(op, args, cm, tm):
        nonlocal path
        if op == b"q":
            state["stack"].append(state["clip"])
        elif op == b"Q":
            state["clip"] = state["stack"].pop() if state["stack"] else state["clip"]
        elif op in (b"m", b"l"):
            path.append(_at(cm, float(args[0]), float(args[1])))
        elif op == b"c":
            path.append(_at(cm, float(args[4]), float(args[5])))
        elif op == b"re":
            x, y, w, h = (float(v) for v in args)
            path += [_at(cm, x, y), _at(cm, x + w, y + h)]
        elif op in (b"W", b"W*"):
            state["pending_clip"] = True
        elif op in (b"f", b"f*", b"F", b"B", b"B*", b"b", b"b*", b"S", b"s", b"n"):
            if path:
                box = clipped(bbox(path), state["clip"])
                area = max(0, box[2] - box[0]) * max(0, box[3] - box[1])
                if op in (b"S", b"s") or (op != b"n" and area < 2000):
                    marks.append(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))  # a line, a glyph
                elif op != b"n":
                    fills.append(box)
                if state["pending_clip"]:
                    state["clip"] = clipped(bbox(path), state["clip"])
            path, state["pending_clip"] = [], False
        elif op == b"Do":
            marks.append(_at(cm, 0.5, 0.5))

    def text(run, cm, tm, font, size):
        if run.strip():
            m = _mul(tm, cm)
            runs.append((m[5], run))
            marks.append((m[4], m[5]))

    pdf_page.extract_text(visitor_operand_before=operator, visitor_text=text)
    line_of, line, last_y = {}, -1, None
    for y in sorted({y for y, _ in runs}, reverse=True):
        if last_y is None or last_y - y >= 4.5:
            line += 1
        line_of[y], last_y = line, y
    lines = [[] for _ in range(line + 1)]
    for y, run in runs:
        lines[line_of[y]].append(run)
    empty = []
    for x0, y0, x1, y1 in fills:
        if y1 - y0 < min_height or x1 - x0 < min_width_share * right:
            continue
        # (a box's own border is drawn as strips along its edges: not its content)
        if not any(x0 + 4 < x < x1 - 4 and y0 + 4 < y < y1 - 4 for x, y in marks):
            empty.append(tuple(round(v) for v in (x0, y0, x1, y1)))
    return "\n".join("".join(parts) for parts in lines), sorted(set(empty))
