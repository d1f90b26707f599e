"""Chinese full-text search that finds what students type, as they type it.

Sphinx's Chinese search (html_search_language: zh) indexes the words jieba cuts from the
text, but the browser looks a query up as typed, without segmenting it. A query that jieba
did not produce as one word then finds nothing: "困惑度" is indexed as "困惑" + "度",
"循环神经网络" as "循环", "神经", "网络", "神经网络", and one-character words are dropped.
So the index also holds every pair of adjacent Chinese characters, and in the browser a run
of Chinese characters that is not an indexed word is looked up as its overlapping pairs, all
of which must occur on the page (a phrase search, up to the pairs' order).

The index reads a page as the reader sees it: Sphinx indexes each piece of text on its own,
so "**截断**反向传播" gave "截断" and "反向传播" but never the pair "断反", and a phrase across
bold, a link or a formula was not found. Here each paragraph, heading, list item or table
cell is indexed as one text, a formula as its words (\\text{...}, operator names) rather
than its TeX commands.

In the browser (the code below replaces Sphinx's query parsing on the search page):
- a query, or each part of it, that is a term of the glossary (glossary.md), in any of the
  ways other books write it or in English ("隐藏状态", "马尔科夫", "RNN", "one-hot"), is
  searched as the course's own term, and the chapter that teaches it comes first;
- questions are read for their terms: "什么是困惑度", "梯度爆炸怎么办" and "随机采样和
  顺序分区的区别" search "困惑度", "梯度爆炸", and "随机采样" with "顺序分区";
- one-letter Latin words are dropped (they are never indexed, so "n 元语法" found nothing);
- the words highlighted, in the result snippets and on the page opened from a result
  (_static/course.js), are the whole terms, not the character pairs they were found by;
- the text snippet under each result is prose, formulas included as plain text ("Hₜ =
  φ(XₜWₓₕ+…)", from the data-text that _ext/mathml.py writes): code, outputs and the page's
  contents list are left out;
- the search index (hundreds of KB) is fetched only once the page has loaded, so the search
  page shows at once and says it is preparing the search meanwhile (_ext/light_pages.py
  leaves its script tag out).
"""
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.search import IndexBuilder, WordStore, languages
from sphinx.search.zh import JIEBA, SearchChinese

import mathml

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{CJK}]+")
GLOSSARY = "glossary.md"
# Words of a question that are not what it asks about: dropped from the query.
FILLER = ("什么是|什么叫|是什么|是啥|啥是|什么|怎么样|怎么办|怎么|怎样|如何|为什么|为何|有什么|有何|"
          "的区别|区别|的差别|差别|的不同|不同|的关系|关系|的作用|作用|的含义|含义|的意思|意思|"
          "的定义|定义|是指|指的是|请问|一下|吗|呢|吧|[？?!！。，,、；;：:]")
# Words that join two terms: "A和B" is searched as A and B (when both have two characters or
# more: "求和" stays one word).
JOINERS = "以及|或者|还是|对比|比较|相比|和|与|跟|及|或|vs"

JS_TEMPLATE = r"""
const COURSE_GLOSSARY = __GLOSSARY__;
const COURSE_FILLER = new RegExp("__FILLER__", "g");
const COURSE_JOINERS = new RegExp("__JOINERS__", "gi");
const courseKey = (text) => text.toLowerCase().replace(/[\s$`]+/g, "");
const COURSE_KEYS = Object.keys(COURSE_GLOSSARY).sort((a, b) => b.length - a.length);
let courseLastHighlights = [];
// The terms a query asks about, each as the course writes it: [{term, doc}], doc being the
// page that teaches a glossary term.
const courseTerms = (query) => {
  const whole = COURSE_GLOSSARY[courseKey(query.replace(COURSE_FILLER, " "))];
  if (whole) return [whole];
  const parts = [];
  const keep = (text) => {  // a glossary term inside ("要梯度裁剪"): that term, and the rest
    const key = courseKey(text);
    const inside = COURSE_KEYS.find((k) => k.length >= 2 && key.includes(k));
    if (inside && inside !== key) {
      const at = key.indexOf(inside);
      [key.slice(0, at), inside, key.slice(at + inside.length)]
        .filter((piece) => piece.length >= 2 || piece === inside).forEach(keep);
    } else if (text.trim()) {
      parts.push(text.trim());
    }
  };
  const cut = (text) => {
    COURSE_JOINERS.lastIndex = 0;
    for (let m; (m = COURSE_JOINERS.exec(text)); ) {
      const left = text.slice(0, m.index).trim(), right = text.slice(m.index + m[0].length).trim();
      if (left.length >= 2 && right.length >= 2) { cut(left); cut(right); return; }
    }
    keep(text);
  };
  query.toLowerCase().replace(COURSE_FILLER, " ").split(/\s+/).forEach((chunk) => cut(chunk));
  return parts.map((part) => COURSE_GLOSSARY[courseKey(part)] || {term: part.replace(/\s+/g, " "), doc: null});
};
// A term as index words: Latin words as they are (one letter dropped: never indexed), a run
// of Chinese characters as itself when indexed, else as its overlapping pairs.
const courseWords = (term) => {
  const indexed = (Search._index && Search._index.terms) || {};
  const out = [];
  term.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu).filter((t) => t).forEach((t) => {
    (t.match(/[CJK]+|[^CJK]+/gu) || []).forEach((part) => {
      if (!/^[CJK]/u.test(part) || part.length <= 2 || part in indexed) out.push(part);
      else for (let i = 0; i + 2 <= part.length; i++) out.push(part.slice(i, i + 2));
    });
  });
  return out.filter((part) => !/^[a-z0-9]$/i.test(part));
};
// What to highlight: each term's runs of letters, whole ("困惑度", not "困惑" and "惑度").
const courseHighlights = (term) => (term.match(/[CJK]+|[\p{Letter}\p{Number}_-]{2,}/gu) || [])
  .map((t) => t.toLowerCase());
var splitQuery = (query) => courseTerms(query).flatMap((t) => courseWords(t.term));
Search._parseQuery = (query) => {
  const stemmer = new Stemmer();
  const terms = courseTerms(query);
  const searchTerms = new Set(), highlightTerms = new Set();
  terms.forEach(({term}) => {
    courseWords(term).forEach((word) => {
      const lower = word.toLowerCase();
      if (stopwords.indexOf(lower) !== -1 || /^\d+$/.test(word)) return;
      searchTerms.add(/[CJK]/u.test(word) ? lower : stemmer.stemWord(lower));
    });
    courseHighlights(term).forEach((t) => highlightTerms.add(t));
  });
  courseLastHighlights = [...highlightTerms];
  localStorage.setItem("course_highlight_terms", JSON.stringify(courseLastHighlights));
  return [query, searchTerms, new Set(), highlightTerms, new Set()];
};
Scorer.score = (result) => {
  const docs = courseTerms(new URLSearchParams(window.location.search).get("q") || "")
    .map((t) => t.doc).filter((d) => d);
  return result[4] + (docs.includes(result[0]) ? 1000 : 0);
};
const courseHtmlToText = Search.htmlToText;
Search.htmlToText = (htmlString, anchor) => {
  const prose = htmlString.replace(/<(script|style)\b[\s\S]*?<\/\1>/g, "");
  const page = new DOMParser().parseFromString(prose, "text/html");
  // a formula as the reader reads it (plain text written when the site was built)
  page.querySelectorAll("math").forEach((m) => m.replaceWith(" " + (m.getAttribute("data-text") || m.textContent) + " "));
  page.querySelectorAll("nav, .toctree-wrapper, .bd-toc, .cell_input, .cell_output, .headerlink, "
      + ".prev-next-area, .header-article, .bd-header-article, .admonition-title, pre, h1, "
      + ".bd-sidebar-secondary, .onthispage, .eqno, #jb-print-toc, .onlyprint")
    .forEach((el) => el.remove());
  return courseHtmlToText(page.documentElement.outerHTML, anchor).replace(/\s+/g, " ");
};
// The snippet shows the text around the first whole term searched for (Sphinx's centres it
// on the first of the character pairs, often far from the phrase).
Search.makeSearchSummary = (htmlText, keywords, anchor) => {
  const text = Search.htmlToText(htmlText, anchor).trim();
  if (!text) return null;
  const lower = text.toLowerCase();
  const at = (words) => words.map((w) => lower.indexOf(w.toLowerCase())).filter((i) => i >= 0);
  const wholes = at(courseLastHighlights), pairs = at([...keywords]);
  const start = wholes.length ? Math.min(...wholes) : pairs.length ? Math.min(...pairs) : 0;
  const from = Math.max(start - 60, 0);
  const summary = document.createElement("p");
  summary.classList.add("context");
  summary.textContent = (from ? "…" : "") + text.substr(from, 240).trim() + (from + 240 < text.length ? "…" : "");
  return summary;
};
// The index is fetched once the page has loaded: the page shows at once, and the query
// waits for the index (Search.setIndex runs it).
window.addEventListener("load", () => {
  if (!Search.hasIndex()) Search.loadIndex(document.documentElement.dataset.content_root + "searchindex.js");
});
""".replace("CJK", CJK)


def glossary_entries(srcdir):
    """{variant written as a query: {"term": the course's term, "doc": where it is taught}}."""
    path = Path(srcdir) / GLOSSARY
    if not path.is_file():
        raise ExtensionError(f"zh_search: {path} is missing; the search takes its synonyms from it")
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("术语", "---"):
            continue
        term, others, english, where = cells
        doc = re.search(r"\(([^)]+)\.(?:ipynb|md)\)", where)
        if not doc:
            raise ExtensionError(f"zh_search: glossary row {term!r} has no link to a chapter")
        canonical = term.replace("$", "")
        variants = [term, *re.split(r"[、,，]", others), *re.split(r"[、,，]", english)]
        for variant in variants:
            key = re.sub(r"[\s$`]+", "", variant.strip().lower())
            if key and key != "—":
                entries.setdefault(key, {"term": canonical, "doc": doc.group(1)})
    if len(entries) < 20:
        raise ExtensionError(f"zh_search: found only {len(entries)} glossary variants in {path}")
    return entries


class SearchChineseWithPairs(SearchChinese):
    js_splitter_code = JS_TEMPLATE  # with the glossary filled in by configure()

    def split(self, input):
        words = super().split(input)
        for run in CJK_RUN.findall(input):
            words.extend(run[i:i + 2] for i in range(len(run) - 1))
        return words


def reader_text(node, title=False):
    """A node's text as the reader sees it: across bold, links and the like; a formula as
    its plain text in a title (the result list shows titles), as its words elsewhere."""
    if isinstance(node, (nodes.math, nodes.math_block)):
        _markup, text, words, _problems = mathml.render(node.astext(),
                                                         isinstance(node, nodes.math_block))
        return f" {text if title else words} "
    if isinstance(node, nodes.Text):
        return node.astext()
    if isinstance(node, nodes.comment):
        return ""
    return "".join(reader_text(child, title) for child in node.children)


def word_collector(self, doctree):
    """IndexBuilder._word_collector, with every block of text indexed as one text."""
    store = WordStore()
    split = self.lang.split

    def visit(node):
        if isinstance(node, nodes.comment):
            return
        if isinstance(node, nodes.raw):
            if "html" in node.get("format", "").split():
                text = re.sub(r"<(style|script).*?</\1>", "", node.astext(), flags=re.I | re.S)
                store.words.extend(split(re.sub(r"<[^<]+?>", "", text)))
            return
        if isinstance(node, nodes.Element) and "no-search" in node.get("classes", []):
            return
        if isinstance(node, nodes.title):
            title = re.sub(r"\s+", " ", reader_text(node, title=True)).strip()
            ids = node.parent["ids"]
            main = not store.titles
            store.titles.append((title, None if main else ids[0] if ids else None))
            store.title_words.extend(split(title))
            store.words.extend(split(reader_text(node)))
            return
        if isinstance(node, nodes.TextElement):  # a paragraph, a term, a code block ...
            store.words.extend(split(reader_text(node)))
            return
        for child in node.children:
            visit(child)

    visit(doctree)
    return store


def configure(app, config):
    if config.html_search_language == "zh" and not JIEBA:
        raise ExtensionError("zh_search: jieba is not installed, so Sphinx's Chinese "
                             "search index would hold no Chinese words; pip install jieba")
    SearchChineseWithPairs.js_splitter_code = (
        JS_TEMPLATE.replace("__GLOSSARY__", json.dumps(glossary_entries(app.srcdir),
                                                       ensure_ascii=False))
        .replace("__FILLER__", FILLER).replace("__JOINERS__", JOINERS))


def setup(app):
    if not callable(getattr(IndexBuilder, "_word_collector", None)):
        raise ExtensionError("zh_search: sphinx.search.IndexBuilder has no _word_collector; "
                             "this Sphinx differs from the pinned one, update _ext/zh_search.py")
    IndexBuilder._word_collector = word_collector
    languages["zh"] = SearchChineseWithPairs
    app.connect("config-inited", configure)
    return {"version": "1.2", "parallel_read_safe": True, "parallel_write_safe": True}
