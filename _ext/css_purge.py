"""Only the CSS rules that the site can use (part of _ext/light_pages.py's work).

The theme's stylesheet is 390 KB, most of it Bootstrap utilities and Font Awesome glyph rules
that no page of this site uses, and every page must download it before it can draw anything:
on a slow phone connection that alone took about eight seconds. After the build, each
stylesheet of the site is rewritten without the rules whose selectors name a class or an id
that appears neither in any built page nor in any of the site's scripts (which add classes as
they run). A few classes that scripts build from parts are kept by prefix.
"""
import re

CLASS_OR_ID = re.compile(r"[.#](-?[_a-zA-Z][\w-]*)")
WORD = re.compile(r"[A-Za-z_][\w-]*")
HTML_NAMES = re.compile(r'\b(?:class|id)="([^"]*)"')
JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`([^`]*)`')
# Built by scripts from pieces ("bs-tooltip-" + placement ...), so never literal in them.
KEEP_PREFIXES = ("bs-tooltip", "tooltip", "show", "fade", "collaps", "dropdown", "active",
                 "disabled", "focus")


def used_words(pages, scripts):
    """Class names and ids of the built pages, and every word of the scripts' string literals
    (where scripts keep the classes they add)."""
    words = set()
    for html in pages:
        for value in HTML_NAMES.findall(html):
            words.update(value.split())
    for js in scripts:
        for match in JS_STRING.finditer(js):
            words.update(WORD.findall(match.group(1) or match.group(2) or match.group(3) or ""))
    return words


def _split_blocks(css):
    """Top-level (prelude, body) pairs of a stylesheet; body is None for @import etc."""
    out, i, n = [], 0, len(css)
    while i < n:
        j = i
        while j < n and css[j] not in "{;":
            if css[j] in "\"'":
                j = css.index(css[j], j + 1)
            j += 1
        if j >= n:
            break
        prelude = css[i:j].strip()
        if css[j] == ";":
            out.append((prelude, None))
            i = j + 1
            continue
        depth, k = 1, j + 1
        while k < n and depth:
            if css[k] in "\"'":
                k = css.index(css[k], k + 1)
            elif css[k] == "{":
                depth += 1
            elif css[k] == "}":
                depth -= 1
            k += 1
        out.append((prelude, css[j + 1:k - 1]))
        i = k
    return out


def _selector_used(selector, words):
    for name in CLASS_OR_ID.findall(selector):
        if name not in words and not name.startswith(KEEP_PREFIXES):
            return False
    return True


def purge(css, words):
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    kept = []
    for prelude, body in _split_blocks(css):
        if body is None:
            kept.append(prelude + ";")
        elif prelude.startswith(("@media", "@supports", "@layer", "@container")):
            inner = purge(body, words)
            if inner.strip():
                kept.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            kept.append(f"{prelude}{{{body}}}")  # @font-face, @keyframes, @page ...
        else:
            selectors = [s for s in prelude.split(",") if _selector_used(s, words)]
            if selectors:
                kept.append(f"{','.join(selectors)}{{{body}}}")
    return "".join(kept)


CUSTOM_PROPERTY = re.compile(r"--[\w-]+")
STRING_OR_SPACE = re.compile(r'("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|\s+')


def _declarations(body):
    """(start, end, text) of each declaration in a rule body, split at top-level ';'."""
    out, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(body):
        if quote:
            if ch == quote and body[i - 1] != "\\":
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ";" and depth == 0:
            out.append((start, i + 1, body[start:i + 1]))
            start = i + 1
    if body[start:].strip():
        out.append((start, len(body), body[start:]))
    return out


def _walk_rules(css, visit):
    """Rebuild css with each plain rule's body passed through visit(body)."""
    out = []
    for prelude, body in _split_blocks(css):
        if body is None:
            out.append(prelude + ";")
        elif prelude.startswith(("@media", "@supports", "@layer", "@container")):
            out.append(f"{prelude}{{{_walk_rules(body, visit)}}}")
        elif prelude.startswith("@"):
            out.append(f"{prelude}{{{body}}}")
        else:
            out.append(f"{prelude}{{{visit(body)}}}")
    return "".join(out)


def drop_unused_properties(css, other_sources=()):
    """Without the custom properties (--name: value) that nothing reads: not a var() of a
    kept declaration, nor a name in other_sources (scripts and pages, which may read or set
    them). The themes declare hundreds of colours and sizes, for light and dark, that this
    site never uses."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    custom, plain = {}, []

    def collect(body):
        for _, _, decl in _declarations(body):
            name = decl.split(":", 1)[0].strip()
            if name.startswith("--"):
                custom.setdefault(name, []).append(decl)
            else:
                plain.append(decl)
        return body
    _walk_rules(css, collect)
    used = {n for text in other_sources for n in CUSTOM_PROPERTY.findall(text)}
    used |= {n for decl in plain for n in CUSTOM_PROPERTY.findall(decl)}
    todo = list(used)
    while todo:  # properties read by the values of properties that are read
        for decl in custom.get(todo.pop(), []):
            for n in CUSTOM_PROPERTY.findall(decl.split(":", 1)[1]):
                if n not in used:
                    used.add(n)
                    todo.append(n)

    def prune(body):
        kept = [d for _, _, d in _declarations(body)
                if not d.split(":", 1)[0].strip().startswith("--")
                or d.split(":", 1)[0].strip() in used]
        return "".join(kept)
    pruned = _walk_rules(css, prune)
    return re.sub(r"[^{};]*\{\}", "", pruned)  # rules left empty


def minify(css):
    """Whitespace collapsed (not inside strings) and left out around punctuation."""
    css = STRING_OR_SPACE.sub(lambda m: m.group(1) or " ", css)
    return re.sub(r" ?([{};,>]) ?", r"\1", css)
