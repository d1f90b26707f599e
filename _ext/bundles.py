"""A chapter a reader downloads runs: one .zip per page, offered in the page's download menu.

Each bundle (`_build/html/bundles/<page>.zip`) holds a folder with
    <page>.ipynb                         the page as published (full-run outputs)
    course_utils-<version>-py3-none-any.whl   the course's package, its full-run results inside
    requirements.txt                     the lock: every version the course is tested with
    README.md                            the steps, in Chinese
so that, unzipped anywhere, it runs after those steps with no repository URL and no network
beyond the package index (tests/test_install.py follows them from an empty folder). The
notebook's first cell also installs the wheel beside it by itself (a plain Jupyter or Colab).

When the site knows its repository (_ext/repo_links.py), the published notebooks also carry the
commit they were built from (COURSE_VERSION in the first cell), so that a notebook downloaded
alone installs the matching course_utils from the repository.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)
FOLDER = "bundles"
VERSION_LINE = '    COURSE_VERSION = os.environ.get("COURSE_VERSION", "main")'
README = """# {title}

这个文件夹是课程网站上的一页，可以在自己的电脑上单独运行：

- `{notebook}`：这一页的笔记本（网站上的输出来自完整运行）；
- `{wheel}`：课程的工具包 course_utils（各章共用的代码，以及后面各章读取的完整运行结果）；
- `requirements.txt`：课程测试过的每个依赖包的版本。

需要 Python 3.11 或更新的版本。在这个文件夹里打开终端（Windows 用 PowerShell），依次运行：

```bash
python -m venv .venv
.venv/bin/python -m pip install --extra-index-url https://download.pytorch.org/whl/cpu -c requirements.txt "{wheel}[lab]"
.venv/bin/jupyter lab {notebook}
```

Windows 上把 `.venv/bin/` 换成 `.venv\\Scripts\\`。第二步从 Python 的包索引安装依赖（PyTorch 用 CPU 版，
几百 MB；课程在 CPU 上几秒钟就能跑完一页），之后不再需要网络以外的任何东西。
本章用到的数据（《时间机器》、周杰伦歌词）第一次运行时从原始地址下载并校验；离线时把这两个文件
放进一个文件夹，并把环境变量 `COURSE_DATA_MIRROR` 设为那个文件夹。

笔记本默认是几秒钟的快速运行；把设置单元里的 `FULL` 改成 `True` 就是网站上展示的完整运行。
已经有 Jupyter（例如 Colab）时，把这几个文件放在笔记本旁边直接运行也可以：第一个代码单元会安装旁边的工具包。
"""


def build_wheel(srcdir, outdir):
    """The course's package as a wheel (pip wheel, no dependencies, no build isolation: the
    build backend is in the locked environment)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as build:
        source = Path(build) / "source"  # a copy: setuptools leaves build/ and *.egg-info beside its input
        source.mkdir()
        for name in ("pyproject.toml", "LICENSE"):
            shutil.copy(Path(srcdir) / name, source / name)
        shutil.copytree(Path(srcdir) / "course_utils", source / "course_utils",
                        ignore=shutil.ignore_patterns("__pycache__", ".staging-*"))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                               "--no-build-isolation", "-w", build, str(source)],
                              capture_output=True, text=True)
        wheels = list(Path(build).glob("course_utils-*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise ExtensionError(f"bundles: building the course_utils wheel failed:\n{proc.stderr[-2000:]}")
        target = outdir / wheels[0].name
        shutil.move(str(wheels[0]), target)
    return target


def title_of(notebook):
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    first = next((c for c in nb["cells"] if c["cell_type"] == "markdown"), None)
    line = "".join(first["source"]).strip().splitlines()[0] if first else ""
    return line.lstrip("# ").strip() or Path(notebook).stem


def make_bundle(notebook, wheel, lock, outdir):
    """<outdir>/<page>.zip with the page, the wheel, the lock and the README in a folder <page>/."""
    notebook, wheel, lock = Path(notebook), Path(wheel), Path(lock)
    stem = notebook.stem
    target = Path(outdir) / f"{stem}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    readme = README.format(title=title_of(notebook), notebook=notebook.name, wheel=wheel.name)
    tmp = target.with_name(f".{target.name}.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(notebook, f"{stem}/{notebook.name}")
        z.write(wheel, f"{stem}/{wheel.name}")
        z.write(lock, f"{stem}/requirements.txt")
        z.writestr(f"{stem}/README.md", readme)
    os.replace(tmp, target)
    return target


def head_commit(srcdir):
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=srcdir, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and len(commit) == 40 else None


def stamp_version(notebook, commit):
    """The first cell of a published notebook names the commit it was built from."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(first["source"])
    if VERSION_LINE not in source:
        raise ExtensionError(f"bundles: the first cell of {Path(notebook).name} has no line "
                             f"{VERSION_LINE.strip()!r}; every chapter starts with the same setup cell")
    source = source.replace(VERSION_LINE, f'    COURSE_VERSION = os.environ.get("COURSE_VERSION", "{commit}")')
    first["source"] = source.splitlines(keepends=True)
    Path(notebook).write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def build_bundles(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    sources = sorted((Path(app.outdir) / "_sources" / "chapters").glob("*.ipynb"))
    if not sources:
        return
    commit = head_commit(app.srcdir) if getattr(app, "env_course_repo_url", None) else None
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(app.srcdir, tmp)
        for notebook in sources:
            if commit:
                stamp_version(notebook, commit)
            make_bundle(notebook, wheel, Path(app.srcdir) / "requirements.txt", Path(app.outdir) / FOLDER)
    logger.info(f"bundles: {len(sources)} pages as .zip in {FOLDER}/ (with {wheel.name})")


def add_download(app, pagename, templatename, context, doctree):
    """A .zip entry in the page's download menu, for pages that are notebooks of chapters/."""
    if not pagename.startswith("chapters/") or not context.get("ipynb_source"):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(1, {
                "type": "link", "url": context["pathto"](f"{FOLDER}/{pagename.split('/')[-1]}.zip", 1),
                "text": ".zip", "icon": "fas fa-file-zipper", "label": "download-bundle-button",
                "tooltip": "下载本章：笔记本、课程工具包与依赖版本，解压后按 README.md 运行"})


def setup(app):
    app.connect("html-page-context", add_download, priority=600)  # after the theme's menu (501)
    app.connect("build-finished", build_bundles, priority=600)  # after repo_links stamps the URL
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
