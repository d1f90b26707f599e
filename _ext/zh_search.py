"""Chinese full-text search that finds what students type.

Sphinx's Chinese search (html_search_language: zh) indexes the words jieba cuts from the
text, but the browser looks a query up as typed, without segmenting it. A query that jieba
did not produce as one word then finds nothing: "困惑度" is indexed as "困惑" + "度",
"循环神经网络" as "循环", "神经", "网络", "神经网络", and one-character words are dropped.
So the index also holds every pair of adjacent Chinese characters, and in the browser a run
of Chinese characters that is not an indexed word is looked up as its overlapping pairs, all
of which must occur on the page (a phrase search, up to the pairs' order).

On top of that, in the browser:
- a query that is a term of the glossary (glossary.md), in any of the ways other books write
  it or in English ("隐藏状态", "马尔科夫", "RNN", "one-hot"), is searched as the course's own
  term, and the chapter that teaches it comes first;
- question words are dropped ("什么是困惑度" searches "困惑度");
- one-letter Latin words are dropped (they are never indexed, so "n 元语法" found nothing);
- the text snippet under each result is prose: formulas, code, outputs and the page's
  contents list are left out.
"""
import json
import re
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.search import languages
from sphinx.search.zh import JIEBA, SearchChinese

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{CJK}]+")
GLOSSARY = "glossary.md"
QUESTION_WORDS = "什么是|什么叫|是什么|怎么样|怎么|怎样|如何|为什么|为何|吗|呢|[？?]"

# Replaces the default splitQuery of Sphinx's searchtools.js (language_data.js, which
# holds this code, is loaded after it); also adjusts its Scorer and snippets.
JS_TEMPLATE = r"""
const COURSE_GLOSSARY = __GLOSSARY__;
const COURSE_QUESTION_WORDS = /__QUESTION__/g;
const courseKey = (text) => text.toLowerCase().replace(COURSE_QUESTION_WORDS, " ")
  .replace(/[\s$`]+/g, "");
const courseHit = (query) => COURSE_GLOSSARY[courseKey(query)];
var splitQuery = (query) => {
  const hit = courseHit(query);
  query = hit ? hit.term : query.replace(COURSE_QUESTION_WORDS, " ");
  const terms = (Search._index && Search._index.terms) || {};
  const out = [];
  query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)
    .filter((term) => term)
    .forEach((term) => {
      (term.match(/[CJK]+|[^CJK]+/gu) || []).forEach((part) => {
        if (!/^[CJK]/u.test(part) || part.length <= 2 || part in terms) {
          out.push(part);
        } else {
          for (let i = 0; i + 2 <= part.length; i++) out.push(part.slice(i, i + 2));
        }
      });
    });
  return out.filter((part) => !/^[a-z0-9]$/i.test(part));
};
Scorer.score = (result) => {
  const hit = courseHit(new URLSearchParams(window.location.search).get("q") || "");
  return result[4] + (hit && result[0] === hit.doc ? 1000 : 0);
};
const courseHtmlToText = Search.htmlToText;
Search.htmlToText = (htmlString, anchor) => {
  const prose = htmlString.replace(
    /<(script|style)\b[\s\S]*?<\/\1>/g, "");
  const page = new DOMParser().parseFromString(prose, "text/html");
  // A short inline formula becomes its letters ("n", "x_t"); anything longer is left out.
  page.querySelectorAll("span.math").forEach((el) => {
    const tex = el.textContent.replace(/^\\\(|\\\)$/g, "").replace(/[{}]/g, "").trim();
    el.replaceWith(/^[A-Za-z0-9_^ .,+=-]{1,8}$/.test(tex) ? tex : "");
  });
  page.querySelectorAll(".math, mjx-container, nav, .toctree-wrapper, .bd-toc, .cell_input, "
      + ".cell_output, .headerlink, .prev-next-area, .header-article, .bd-header-article, "
      + ".admonition-title, pre, h1, .bd-sidebar-secondary, .onthispage").forEach((el) => el.remove());
  return courseHtmlToText(page.documentElement.outerHTML, anchor);
};
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


def configure(app, config):
    if config.html_search_language == "zh" and not JIEBA:
        raise ExtensionError("zh_search: jieba is not installed, so Sphinx's Chinese "
                             "search index would hold no Chinese words; pip install jieba")
    SearchChineseWithPairs.js_splitter_code = (
        JS_TEMPLATE.replace("__GLOSSARY__", json.dumps(glossary_entries(app.srcdir),
                                                       ensure_ascii=False))
        .replace("__QUESTION__", QUESTION_WORDS))


def setup(app):
    languages["zh"] = SearchChineseWithPairs
    app.connect("config-inited", configure)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
