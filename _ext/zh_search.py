"""Chinese full-text search that finds any Chinese word of the text.

Sphinx's Chinese search (html_search_language: zh) indexes the words jieba cuts from the
text, but the browser looks a query up as typed, without segmenting it. A query that jieba
did not produce as one word then finds nothing: "困惑度" is indexed as "困惑" + "度",
"循环神经网络" as "循环", "神经", "网络", "神经网络", and one-character words are dropped.

So the index also holds every pair of adjacent Chinese characters, and in the browser a
run of Chinese characters that is not an indexed word is looked up as its overlapping pairs,
all of which must occur on the page (a phrase search, up to the pairs' order).
"""
import re

from sphinx.errors import ExtensionError
from sphinx.search import languages
from sphinx.search.zh import JIEBA, SearchChinese

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{CJK}]+")

# Replaces the default splitQuery of Sphinx's searchtools.js (language_data.js, which
# holds this code, is loaded after it).
JS_SPLITTER = r"""
var splitQuery = (query) => {
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
  return out;
};
""".replace("CJK", CJK)


class SearchChineseWithPairs(SearchChinese):
    js_splitter_code = JS_SPLITTER

    def split(self, input):
        words = super().split(input)
        for run in CJK_RUN.findall(input):
            words.extend(run[i:i + 2] for i in range(len(run) - 1))
        return words


def check_language(app, config):
    if config.html_search_language == "zh" and not JIEBA:
        raise ExtensionError("zh_search: jieba is not installed, so Sphinx's Chinese "
                             "search index would hold no Chinese words; pip install jieba")


def setup(app):
    languages["zh"] = SearchChineseWithPairs
    app.connect("config-inited", check_language)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
