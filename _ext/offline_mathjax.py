"""Serve MathJax 3 from the site itself, so pages typeset math with no network.

Sphinx loads MathJax from a CDN by default. Here the files come from the pinned PyPI
package `django-static-mathjax` (a copy of the npm package MathJax 3, including its
`es5/` build) and are copied into the built site at `_static/mathjax/` when the build
finishes. They are deliberately not put in the book's source `_static/` folder: Jupyter
Book 1.x adds every `.js` file found there to every page, so MathJax would load twice.
"""
import json
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util.fileutil import copy_asset

import mathjax  # the import name of django-static-mathjax

PACKAGE = Path(mathjax.__file__).parent / "static" / "mathjax"
ES5 = PACKAGE / "es5"
# The one combined component a page loads (TeX input, CommonHTML output, context menu).
ENTRY = "tex-chtml.js"
# What that component may load later: TeX extensions on first use (\boldsymbol, ...),
# its web fonts, and what the context menu's accessibility options need.
LAZY = ["input", "output/chtml", "ui", "a11y", "sre"]
TARGET = "mathjax"  # under the output's _static/


def mathjax_version():
    return json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]


def use_local_mathjax(app, config):
    missing = [p for p in [ENTRY, *LAZY] if not (ES5 / p).exists()]
    if missing:
        raise ExtensionError(f"offline_mathjax: {missing} missing in {ES5}; "
                             "reinstall the pinned django-static-mathjax package")
    if not mathjax_version().startswith("3."):
        raise ExtensionError(f"offline_mathjax: need MathJax 3, found {mathjax_version()}")
    # Relative paths are resolved against _static/ by Sphinx.
    config.mathjax_path = f"{TARGET}/{ENTRY}"


def copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / TARGET
    shutil.rmtree(dest, ignore_errors=True)  # a fresh copy: never a mix of two versions
    copy_asset(str(ES5 / ENTRY), str(dest))
    for sub in LAZY:
        copy_asset(str(ES5 / sub), str(dest / sub))
    copy_asset(str(PACKAGE / "LICENSE"), str(dest))  # Apache-2.0 asks for it


def setup(app):
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", use_local_mathjax)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
