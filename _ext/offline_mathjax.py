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
# A page loads startup.js (the loader) and, through it, only what the course's formulas
# need: the core, TeX input with the AMS and \\boldsymbol packages (autoload/require fetch any
# other package on first use), CommonHTML output with its web fonts, and the assistive
# MathML that screen readers use. About 0.65 MB instead of the 1.16 MB of tex-chtml.js
# (whose context menu alone is 0.43 MB): pages typeset sooner on a slow network.
ENTRY = "startup.js"
COMPONENTS = ["core", "input/tex-base", "[tex]/ams", "[tex]/boldsymbol", "[tex]/autoload",
              "[tex]/require", "output/chtml", "a11y/assistive-mml"]
COPY = ["core.js", "input/tex-base.js", "input/tex", "output/chtml.js", "output/chtml",
        "a11y/assistive-mml.js"]
TARGET = "mathjax"  # under the output's _static/


def mathjax_version():
    return json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]


def use_local_mathjax(app, config):
    missing = [p for p in [ENTRY, *COPY] if not (ES5 / p).exists()]
    if missing:
        raise ExtensionError(f"offline_mathjax: {missing} missing in {ES5}; "
                             "reinstall the pinned django-static-mathjax package")
    if not mathjax_version().startswith("3."):
        raise ExtensionError(f"offline_mathjax: need MathJax 3, found {mathjax_version()}")
    # Relative paths are resolved against _static/ by Sphinx.
    config.mathjax_path = f"{TARGET}/{ENTRY}"
    settings = dict(config.mathjax3_config or {})
    settings["loader"] = {"load": COMPONENTS}
    settings["tex"] = {**settings.get("tex", {}),
                       "packages": {"[+]": ["ams", "boldsymbol", "autoload", "require"]}}
    config.mathjax3_config = settings


def copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / TARGET
    shutil.rmtree(dest, ignore_errors=True)  # a fresh copy: never a mix of two versions
    copy_asset(str(ES5 / ENTRY), str(dest))
    for part in COPY:
        target = dest / part
        if (ES5 / part).is_dir():
            copy_asset(str(ES5 / part), str(target))
        else:
            copy_asset(str(ES5 / part), str(target.parent))
    copy_asset(str(PACKAGE / "LICENSE"), str(dest))  # Apache-2.0 asks for it


def setup(app):
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", use_local_mathjax)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
