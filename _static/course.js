// The course's own behaviour on every page (Jupyter Book loads every .js file of _static/).
"use strict";

// Printing a page prints every folded answer and code cell unfolded (a teacher's answer key).
// CSS unfolds <details> in print where the browser supports ::details-content (course.css);
// this opens them for browsers that do not, and folds them back afterwards.
(() => {
  let opened = [];
  window.addEventListener("beforeprint", () => {
    opened = [...document.querySelectorAll("details:not([open])")];
    opened.forEach((d) => { d.open = true; });
  });
  window.addEventListener("afterprint", () => {
    opened.forEach((d) => { d.open = false; });
    opened = [];
  });
})();

// A page opened from a search result shows the words searched for, whole ("困惑度", also
// where the page writes <strong>截断</strong>反向传播), and a button to hide them. The search
// page stores the words (_ext/zh_search.py); Sphinx's own highlighter, which marks one text
// node at a time and labels its button in English, is not loaded (_ext/light_pages.py).
(() => {
  const KEY = "course_highlight_terms";
  if (document.getElementById("search-results")) return;  // the search page marks its own
  let terms = [];
  try {
    terms = JSON.parse(localStorage.getItem(KEY) || "[]");
  } catch (error) {
    terms = [];
  }
  localStorage.removeItem(KEY);
  const url = new URL(window.location);
  if (url.searchParams.get("highlight")) {
    terms = terms.concat(url.searchParams.get("highlight").split(/\s+/));
    url.searchParams.delete("highlight");
    window.history.replaceState({}, "", url);
  }
  terms = [...new Set(terms.map((t) => t.toLowerCase()).filter((t) => t.length >= 2))];
  const article = document.querySelector("article.bd-article");
  if (!terms.length || !article) return;

  // The article's text nodes and where each starts in their joined text, by block: a term
  // may run across inline elements (bold, links) but not from one paragraph into the next.
  const SKIP = "script, style, math, button, .headerlink, .highlighted";
  const blocks = new Map();
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.nodeValue || node.parentElement.closest(SKIP)) continue;
    let block = node.parentElement;
    while (block !== article && getComputedStyle(block).display.startsWith("inline")) {
      block = block.parentElement;
    }
    if (!blocks.has(block)) blocks.set(block, []);
    blocks.get(block).push(node);
  }
  const marks = [];
  const mark = (node, start, end) => {
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, end);
    const span = document.createElement("span");
    span.className = "highlighted";
    range.surroundContents(span);
    marks.push(span);
  };
  blocks.forEach((textNodes) => {
    const text = textNodes.map((n) => n.nodeValue).join("").toLowerCase();
    const hits = [];  // [start, end) in the joined text, not overlapping
    terms.forEach((term) => {
      for (let at = text.indexOf(term); at >= 0; at = text.indexOf(term, at + term.length)) {
        if (!hits.some(([s, e]) => at < e && s < at + term.length)) hits.push([at, at + term.length]);
      }
    });
    // wrap from the end, so that the offsets of what comes before stay valid
    hits.sort((a, b) => b[0] - a[0]).forEach(([start, end]) => {
      let offset = 0;
      const pieces = textNodes.map((node) => {
        const from = offset;
        offset += node.nodeValue.length;
        return [node, from, offset];
      });
      pieces.reverse().forEach(([node, from, to]) => {
        const s = Math.max(start, from), e = Math.min(end, to);
        if (s < e) mark(node, s - from, e - from);
      });
    });
  });
  if (!marks.length) return;
  const bar = document.createElement("p");
  bar.className = "course-search-matches";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "隐藏搜索结果";
  button.addEventListener("click", () => {
    marks.forEach((span) => span.replaceWith(...span.childNodes));
    bar.remove();
  });
  bar.appendChild(button);
  article.prepend(bar);
})();

// Phones: tapping a link in the chapters or contents drawer closes the drawer, so the reader
// sees the section it leads to (the theme leaves the drawer open over the page).
document.addEventListener("click", (event) => {
  const link = event.target.closest("dialog[open] a[href]");
  if (link) setTimeout(() => link.closest("dialog").close(), 0);
});

// The colour-mode button switches between light and dark at every tap. The theme cycles
// light -> system -> dark, so with the system set to light the first tap changed nothing.
// Here the mode stored before the theme's own handler runs is the one that it turns into
// the opposite of what the page shows now.
document.addEventListener("click", (event) => {
  if (!event.target.closest(".theme-switch-button")) return;
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  const cycle = systemDark ? ["auto", "light", "dark"] : ["auto", "dark", "light"];  // the theme's
  const wanted = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  localStorage.setItem("mode", cycle[(cycle.indexOf(wanted) + cycle.length - 1) % cycle.length]);
}, true);
