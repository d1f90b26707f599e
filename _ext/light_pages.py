"""Lighter pages for phones on slow networks: the built HTML is post-processed once the build
has finished (nothing here changes what a page says).

- Icons: the theme loads Font Awesome's whole 1.45 MB script to draw about fifteen icons.
  Here every <i class="fa-..."> in the pages becomes the inline SVG of that one icon (the
  paths are taken from the theme's own copy of Font Awesome Free, CC BY 4.0), and the script
  is no longer loaded.
- Search: the theme loads the search index (hundreds of KB) and Sphinx's search code on every
  page for an as-you-type search that this site does not use; only the search page keeps
  them, and there the index is fetched once the page has loaded (_ext/zh_search.py), not by
  a script tag that holds up the page. Sphinx's highlighter of searched words is replaced by
  _static/course.js.
- Math: there is no math script to load (formulas are MathML written at build time,
  _ext/mathml.py).
- Styles and scripts of a feature are loaded only by pages that use it (sphinx-design's
  dropdowns, sphinx-togglebutton, the notebook cells' styles); stylesheets keep only the rules
  the site can use (_ext/css_purge.py) and are joined into one file, one request instead of
  eight (the theme's own @import made two of them wait for each other), without the custom
  properties that nothing reads and without needless whitespace; scripts in the
  page's head are deferred to the end of the page, so that they no longer hold up the first
  paint (the tiny one that inline scripts need stays as it is).
- Figures: lazy loading and asynchronous decoding for figures below the first screen, and
  width/height attributes so that the page does not jump while they arrive; the PNG files
  themselves are re-encoded with a 256-colour palette when that is smaller (plots have few
  colours; the palette is built from the image itself).
- Code: Pygments wraps every name and punctuation mark of a code cell in a <span> of a class
  that no stylesheet colours (about half of a code-heavy page); those wrappers are dropped.
- Alt text: a figure's alt text is its file name until here; it becomes a description taken
  from the code that drew it (the titles and axis labels it sets), or, without a title, the
  section it belongs to.
- Words: the interface strings the themes leave in English (or in traditional Chinese) are
  given in Simplified Chinese, and the footer's link to the credits page is made relative.
"""
import hashlib
import io
import os
import re
from pathlib import Path

import css_purge
import pydata_sphinx_theme
from bs4 import BeautifulSoup
from PIL import Image
from sphinx.errors import ExtensionError

FA_JS = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"
         / "scripts" / "fontawesome.js")
STYLE_CLASSES = {"fa-solid": "fas", "fas": "fas", "fa-regular": "far", "far": "far",
                 "fa-brands": "fab", "fab": "fab"}
NOT_ICONS = {"fa-lg", "fa-sm", "fa-xs", "fa-2x", "fa-fw", "fa-solid", "fa-regular", "fa-brands"}
ICON_TAG = re.compile(r'<(i|span) class="([^"]*\bfa-[^"]*)"([^>]*)>\s*</\1>')
FONTAWESOME_SCRIPT = re.compile(r'\s*<script (?:defer )?src="[^"]*_static/scripts/fontawesome\.js[^"]*">'
                                r'</script>')
SEARCH_SCRIPTS = re.compile(r'\s*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js'
                            r'|searchindex\.js)"></script>')
SEARCH_INDEX = re.compile(r'\s*<script src="[^"]*searchindex\.js"></script>')
# Sphinx's highlighter of the words searched for: _static/course.js does it instead
HIGHLIGHT_SCRIPT = re.compile(r'\s*<script (?:defer )?src="[^"]*_static/sphinx_highlight\.js[^"]*"></script>')
IMG_TAG = re.compile(r'<img\b[^>]*>')
# asset file name -> a mark in a page's body that shows the page needs it
ASSET_USED_BY = {
    "sphinx-design.min.css": 'class="sd-', "design-tabs.js": "sd-tab-set",
    "togglebutton.css": "toggle-button", "togglebutton.js": 'class="admonition toggle',
    "mystnb.": 'class="cell',
}
EAGER_IMAGES = 1  # the first figure of a page may be on the first screen: load it at once
CREDITS_PLACEHOLDER = "@CREDITS@"  # in _config.yml's footer
# Interface strings of the themes that have no (simplified) Chinese translation; each is
# replaced where it is a whole attribute value or a whole element text.
UI_WORDS = {
    "Toggle primary sidebar": "显示或隐藏章节列表",
    "Toggle secondary sidebar": "显示或隐藏本页目录",
    "Color mode": "颜色模式",
    "Light": "浅色", "Dark": "深色", "System Settings": "跟随系统",
    "Launch interactive content": "在线运行",
    "Launch on": "在以下平台运行：",
    "Download this page": "下载本页",
    "Download source file": "下载源文件",
    "Download notebook file": "下载笔记本",
    "Print to PDF": "打印为 PDF",
    "列印成 PDF": "打印为 PDF",
    "列印": "打印",
    "Fullscreen mode": "全屏",
    "Source repositories": "源代码仓库",
    "Source repository": "源代码仓库",
    "Back to top": "回到顶部",
    "Skip to main content": "跳到正文",
    "Link to this heading": "本节的链接",
    "Search": "搜索",
    "Search the docs ...": "搜索本课程……",
    "Search this book...": "搜索本课程……",
    "previous": "上一页",
    "next": "下一页",
    "Contents": "目录",
    "repository": "仓库",
    "Main": "章节导航",
    "Page": "本页导航",
    "Toggle hidden content": "显示或隐藏内容",
    "Site navigation": "网站导航",
    "Breadcrumb": "当前位置",
    "Section Navigation": "本节导航",
}
UI_ATTRIBUTE = re.compile(r'((?:title|aria-label|data-bs-title|placeholder|alt)=")([^"]+)(")')
UI_TEXT = re.compile(r'(>\s*)([^<>]+?)(\s*<)')


def site_pages(outdir):
    """The site's pages (not the theme's template snippets copied into _static/)."""
    return [p for p in outdir.rglob("*.html") if not p.relative_to(outdir).parts[0].startswith("_")]


def fontawesome_icons():
    """{(style, name): (width, height, svg path)} for every single-path icon of the bundle."""
    text = FA_JS.read_text(encoding="utf-8")
    marks = [(m.start(), m.group(1)) for m in re.finditer(r'\bd\("(fab|far|fas)",', text)]
    if len(marks) < 3:
        raise ExtensionError(f"light_pages: the icon sets in {FA_JS} were not found; the theme's "
                             f"Font Awesome bundle changed, update _ext/light_pages.py")
    icons = {}
    for m in re.finditer(r'(?:"([a-z0-9-]+)"|(?<![\w-])([a-z0-9-]+)):\[(\d+),(\d+),\[[^\]]*\],'
                         r'"[0-9a-f]+","([^"]+)"\]', text):
        style = next((s for pos, s in marks if pos > m.start()), None)
        if style:
            icons.setdefault((style, m.group(1) or m.group(2)), (m.group(3), m.group(4), m.group(5)))
    return icons


def inline_icon(match, icons, missing):
    classes, rest = match.group(2).split(), match.group(3)
    style = next((STYLE_CLASSES[c] for c in classes if c in STYLE_CLASSES), "fas")
    names = [c[3:] for c in classes if c.startswith("fa-") and c not in NOT_ICONS]
    for name in names:
        if (style, name) in icons:
            width, height, path = icons[style, name]
            return (f'<svg class="svg-inline--fa {" ".join(classes)}" viewBox="0 0 {width} {height}" '
                    f'aria-hidden="true" focusable="false"{rest}><path fill="currentColor" '
                    f'd="{path}"/></svg>')
    missing.add(" ".join(classes))
    return match.group(0)


def lighten_images(html, outdir, page):
    count = 0

    def fix(match):
        nonlocal count
        tag = match.group(0)
        src = re.search(r'src="([^"]+)"', tag)
        if not src or src.group(1).startswith("data:"):
            return tag
        count += 1
        extra = ""
        if "loading=" not in tag and count > EAGER_IMAGES:
            extra += ' loading="lazy"'
        if "decoding=" not in tag:
            extra += ' decoding="async"'
        if "width=" not in tag:
            file = (page.parent / src.group(1)).resolve()
            if file.is_file() and file.suffix == ".png":
                with Image.open(file) as im:
                    extra += f' width="{im.width}" height="{im.height}"'
        return tag[:-1].rstrip("/").rstrip() + extra + (" />" if tag.endswith("/>") else ">")
    return IMG_TAG.sub(fix, html)


def palette_png(path):
    """Re-encode a PNG with an adaptive 256-colour palette when that is smaller."""
    original = path.read_bytes()
    with Image.open(io.BytesIO(original)) as im:
        im.load()
        if im.mode not in ("RGB", "RGBA"):
            return 0
        quantized = im.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    quantized.save(buffer, format="PNG", optimize=True)
    if len(buffer.getvalue()) < 0.9 * len(original):
        path.write_bytes(buffer.getvalue())
        return len(original) - len(buffer.getvalue())
    return 0


def translate_ui(html):
    html = html.replace("© Copyright ", "© ")  # the theme's copyright line
    html = UI_ATTRIBUTE.sub(lambda m: m.group(1) + UI_WORDS.get(m.group(2), m.group(2)) + m.group(3),
                            html)
    head, sep, body = html.partition('<div class="bd-container">')
    # outside the article only: the chapters' own text and code are never touched
    article_start = body.find('<article')
    article_end = body.find('</article>')
    if article_start >= 0 and article_end > article_start:
        body = (UI_TEXT.sub(_word, body[:article_start]) + body[article_start:article_end]
                + UI_TEXT.sub(_word, body[article_end:]))
    else:
        body = UI_TEXT.sub(_word, body)
    return UI_TEXT.sub(_word, head) + sep + body


def _word(match):
    return match.group(1) + UI_WORDS.get(match.group(2), match.group(2)) + match.group(3)


TITLE_ARG = re.compile(r'(?:title|set_title|suptitle)\s*(?:=|\()\s*f?"([^"]+)"')
LABEL_ARG = re.compile(r'(xlabel|ylabel|set_xlabel|set_ylabel)\s*(?:=|\()\s*f?"([^"]+)"')


def describe(code, section):
    """A figure's alt text from the code of its cell: titles and axis labels it sets. A value
    filled in when the notebook ran ("T = {T}") is not known here: the words around it are
    left out rather than shown with a gap ("（T = …）")."""
    def clean(text):
        text = re.sub(r"[（(][^（()）]*\{[^}]*\}[^（()）]*[）)]", "", text)  # a bracket with a value
        text = re.sub(r"[^\s，,：:；;]*\s*[=:：]\s*\{[^}]*\}", "", text)  # name = value
        return "" if "{" in text else text.strip(" ，,：:；;")  # a value mid-sentence: no title
    titles = [t for t in map(clean, TITLE_ARG.findall(code)) if t]
    labels = {}
    for kind, text in LABEL_ARG.findall(code):
        if clean(text):
            labels.setdefault("横轴" if "x" in kind else "纵轴", clean(text))
    what = "；".join(dict.fromkeys(titles)) or f"“{section}”一节的图"
    axes = "，".join(f"{k}：{v}" for k, v in labels.items())
    return f"图：{what}" + (f"（{axes}）" if axes else "")


def figure_alt_texts(html):
    """{image src: alt text} for the figures in the page's code cells."""
    soup = BeautifulSoup(html, "html.parser")
    alts = {}
    for cell in soup.select("div.cell"):
        images = cell.select(".cell_output img")
        if not images:
            continue
        code = cell.select_one(".cell_input")
        heading = cell.find_previous(["h1", "h2", "h3"])
        section = heading.get_text(" ", strip=True).rstrip("#").strip() if heading else ""
        text = describe(code.get_text() if code else "", section)
        for i, img in enumerate(images):
            alts[img["src"]] = text if len(images) == 1 else f"{text}（第 {i + 1} 张）"
    return alts


def set_alt_texts(html):
    for src, alt in figure_alt_texts(html).items():
        html = html.replace(f'alt="{src}"', f'alt="{alt}"')
    return html


SYNC_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
KEEP_SYNC = ("documentation_options.js",)
# The interface's translations right after doctools.js, which they add themselves to, and
# before the scripts that look up their words when they run (the search page's).
TRANSLATIONS, DOCTOOLS = "translations.js", "doctools.js"


PRELOAD_SCRIPT = re.compile(r'\s*<link rel="preload" as="script" href="[^"]+" />')


def defer_scripts(html):
    """Scripts of the head wait for the end of the page: deferred, and moved to the end of the
    body, so that the browser does not fetch them while the stylesheets are still coming."""
    head, sep, body = html.partition("</head>")
    moved = []

    def move(match):
        if match.group(1).split("?")[0].endswith(KEEP_SYNC):
            return match.group(0)
        moved.append(f'<script defer src="{match.group(1)}"></script>')
        return ""
    head = PRELOAD_SCRIPT.sub("", SYNC_SCRIPT.sub(move, head))
    translation = next((m for m in moved if TRANSLATIONS in m), None)
    doctools = next((m for m in moved if DOCTOOLS in m), None)
    if translation and doctools:
        moved.remove(translation)
        moved.insert(moved.index(doctools) + 1, translation)
    end = body.rfind("</body>")
    return head + sep + body[:end] + "\n".join(moved) + "\n" + body[end:]


def loaded_scripts(outdir, pages):
    """The text of every script of _static/ that some page loads."""
    static = outdir / "_static"
    names = {m for html in pages for m in re.findall(r'_static/([\w./-]+\.js)', html)}
    return [(static / n).read_text(encoding="utf-8", errors="replace") for n in sorted(names)
            if (static / n).is_file()]


def purge_stylesheets(outdir):
    static = outdir / "_static"
    pages = [p.read_text(encoding="utf-8") for p in site_pages(outdir)]
    scripts = loaded_scripts(outdir, pages)
    words = css_purge.used_words(pages, scripts)
    for css in static.rglob("*.css"):
        if css.name == "course.css":
            continue
        css.write_text(css_purge.purge(css.read_text(encoding="utf-8"), words), encoding="utf-8")


STYLESHEET = re.compile(r'<link (?=[^>]*rel="stylesheet")[^>]*href="([^"]*_static/[^"]+\.css)(?:\?[^"]*)?"[^>]*>')
BUNDLE = "styles/course-bundle.css"


def bundle_stylesheets(outdir, extra_css=""):
    """One stylesheet for every page: the site's stylesheets in the order the pages list them
    (the theme's @import inlined), written to _static/styles/course-bundle.css; each page then
    links that file instead. Returns {page: html} with the links replaced."""
    static = outdir / "_static"
    pages = {p: p.read_text(encoding="utf-8") for p in site_pages(outdir)}
    order = []
    for html in sorted(pages.values(), key=lambda h: -len(STYLESHEET.findall(h))):
        for href in STYLESHEET.findall(html):
            name = href.split("_static/", 1)[1]
            if name not in order and name != BUNDLE:  # pages kept from an earlier build
                order.append(name)
    parts = []
    for name in order:
        css = (static / name).read_text(encoding="utf-8")
        # @import "../basic.css" (the theme's): inline it, with its url()s made relative to the bundle
        for target in re.findall(r'@import\s+(?:url\()?"([^"]+)"\)?;', css):
            imported = (static / name).parent / target
            inner = imported.read_text(encoding="utf-8")
            css = css.replace(re.search(rf'@import\s+(?:url\()?"{re.escape(target)}"\)?;', css).group(0),
                              rebase_urls(inner, imported.parent, (static / BUNDLE).parent))
        parts.append(f"/* {name} */\n" + rebase_urls(css, (static / name).parent, (static / BUNDLE).parent))
    bundle = "\n".join(parts + ["/* code text (_ext/light_pages.py) */", extra_css])
    scripts = loaded_scripts(outdir, list(pages.values()))
    bundle = css_purge.minify(css_purge.drop_unused_properties(bundle, scripts + list(pages.values())))
    (static / BUNDLE).write_text(bundle, encoding="utf-8")
    digest = hashlib.sha256(bundle.encode()).hexdigest()[:12]
    out = {}
    for page, html in pages.items():
        links = list(STYLESHEET.finditer(html))
        if not links:
            continue
        prefix = "../" * len(page.relative_to(outdir).parts[:-1])
        first, rest = links[0], links[1:]
        for link in reversed(rest):
            html = html[:link.start()] + html[link.end():]
        html = (html[:first.start()] + f'<link rel="stylesheet" href="{prefix}_static/{BUNDLE}?v={digest}" />'
                + html[first.end():])
        out[page] = html
    return out


def rebase_urls(css, from_dir, to_dir):
    def fix(match):
        url = match.group(2)
        if url.startswith(("data:", "http:", "https:", "/", "#")):
            return match.group(0)
        target = Path(os.path.relpath(from_dir / url, to_dir)).as_posix()
        return f"url({match.group(1)}{target}{match.group(1)})"
    return re.sub(r'url\((["\']?)([^"\')]+)\1\)', fix, css)


TOKEN_RULE = r'((?:html\[data-theme="\w+"\] )?)\.highlight \.{cls} \{{ color: (#[0-9A-Fa-f]+) \}}'


def plain_token_classes(static):
    """Pygments token classes whose spans can go: names ("n"), when their only style is a text
    colour per theme (code text then gets that colour), and punctuation ("p"), when it has no
    style or the names' one. Returns (classes, the CSS that colours code text)."""
    pygments = (static / "pygments.css").read_text(encoding="utf-8")

    def colours(cls):
        if re.search(rf"\.{cls}(?![\w-])\s*\{{(?! color: #[0-9A-Fa-f]+ \}})", pygments):
            return None  # styled beyond a colour
        return dict(re.findall(TOKEN_RULE.format(cls=cls), pygments))
    names, punctuation = colours("n"), colours("p")
    if names is None:
        return [], ""
    classes = ["n"] + (["p"] if punctuation is not None and punctuation in ({}, names) else [])
    css = "\n".join(f"{theme}.highlight pre {{ color: {colour} }}" for theme, colour in names.items())
    return classes, css


def drop_unstyled_spans(html, classes):
    if not classes:
        return html
    pattern = re.compile(r'<span class="(?:%s)">([^<]*)</span>' % "|".join(classes))
    return pattern.sub(r"\1", html)


def drop_unused_assets(html):
    body = html[html.find("<body"):]
    for asset, mark in ASSET_USED_BY.items():
        if mark not in body:
            name = re.escape(asset)
            html = re.sub(rf'\s*<link [^>]*href="[^"]*_static/{name}[^"]*"[^>]*>', "", html)
            html = re.sub(rf'\s*<script [^>]*src="[^"]*_static/{name}[^"]*"[^>]*></script>', "", html)
    return html


def lighten(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    icons, missing = fontawesome_icons(), set()
    plain_tokens, plain_css = plain_token_classes(outdir / "_static")
    for page in site_pages(outdir):
        html = page.read_text(encoding="utf-8")
        before = html
        html = ICON_TAG.sub(lambda m: inline_icon(m, icons, missing), html)
        html = FONTAWESOME_SCRIPT.sub("", html)
        if page.relative_to(outdir).as_posix() != "search.html":
            html = SEARCH_SCRIPTS.sub("", html)
            html = HIGHLIGHT_SCRIPT.sub("", html)
        else:  # the index is fetched by the page once it has loaded (_ext/zh_search.py)
            html = SEARCH_INDEX.sub("", html)
        html = drop_unused_assets(html)
        html = defer_scripts(html)
        html = drop_unstyled_spans(html, plain_tokens)
        html = lighten_images(html, outdir, page)
        html = set_alt_texts(html)
        html = translate_ui(html)
        credits = Path(app.builder.get_target_uri("credits"))
        relative = Path(*([".."] * len(page.relative_to(outdir).parts[:-1]))) / credits
        html = html.replace(CREDITS_PLACEHOLDER, relative.as_posix())
        if html != before:
            page.write_text(html, encoding="utf-8")
    if missing:
        raise ExtensionError(f"light_pages: no inline SVG for the icons {sorted(missing)}; they "
                             f"are not single-path icons of the theme's Font Awesome bundle")
    for png in (outdir / "_images").glob("*.png"):
        palette_png(png)
    purge_stylesheets(outdir)
    for page, html in bundle_stylesheets(outdir, plain_css).items():
        page.write_text(html, encoding="utf-8")
    # served as it is by GitHub Pages from a branch too (Jekyll would hide _static/, _images/)
    (outdir / ".nojekyll").write_text("", encoding="utf-8")


def every_page(app, env, added, changed, removed):
    """Re-read and re-write every page on each build: lighten() works on the whole site at
    once (one stylesheet from what all pages use), which pages kept from an earlier build,
    already rewritten, would no longer show."""
    return sorted(env.found_docs - set(added) - set(changed))


def setup(app):
    app.connect("env-get-outdated", every_page)
    # after the themes (pydata-sphinx-theme rewrites pygments.css when the build finishes)
    app.connect("build-finished", lighten, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
