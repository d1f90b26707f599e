"""Readable, stable anchors for every section.

Docutils makes a section's HTML id from its title with ASCII letters only, so a Chinese
heading such as “梯度裁剪” gets "id5": a number that changes whenever a section is added
above it, which breaks the links teachers share. Here every such section gets an id made
from its own title instead ("梯度裁剪", "4-梯度裁剪"...); two sections of a page with the same
title get -2, -3. Sections that already have a meaningful id (an explicit label, or an ASCII
title) keep it.
"""
import re

from docutils import nodes
from sphinx.transforms import SphinxTransform

GENERATED = re.compile(r"^id\d+$")


def slug(title):
    text = re.sub(r"[^\w\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", "-", title.lower())
    text = text.strip("-_")
    # an id that starts with a digit is valid HTML but not a CSS selector, which scripts use
    return f"sec-{text}" if text[:1].isdigit() else text


class ReadableSectionIds(SphinxTransform):
    default_priority = 800  # after docutils made the ids, before Sphinx reads the contents

    def apply(self, **kwargs):
        taken = set(self.document.ids)
        for section in self.document.findall(nodes.section):
            if not section["ids"] or not GENERATED.match(section["ids"][0]):
                continue
            title = section.next_node(nodes.title)
            base = slug(title.astext()) if title else ""
            if not base:
                continue
            new, n = base, 1
            while new in taken:
                n += 1
                new = f"{base}-{n}"
            old = section["ids"][0]
            section["ids"][0] = new
            self.document.ids[new] = section
            self.document.ids.pop(old, None)
            taken.add(new)


def setup(app):
    app.add_transform(ReadableSectionIds)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
