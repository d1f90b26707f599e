"""各章完整运行得到的指标：写在 results/full/<名字>.json 里并随仓库提交，
后面的章节（例如第 7 章的对比表）只读这些提交过的文件，不依赖本次是否运行过别的章节。"""
import json
import math
import os
import re
import tempfile
from pathlib import Path

import IPython.display

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results" / "full"


def save(name, metrics, *, full):
    """完整运行时把 metrics（可以转成 JSON 的字典）原子地写入 results/full/；
    快速运行的数字不能代表这一章，所以什么也不写。"""
    if not full:
        return
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=RESULTS_DIR, suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(metrics, f, ensure_ascii=False, indent=1, sort_keys=True)
    os.replace(tmp, RESULTS_DIR / f"{name}.json")


def load(name):
    """读取一章提交过的完整运行结果。"""
    path = RESULTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no committed results {path}; run the chapter that writes "
                                f"{name!r} in full mode (`make full`) and commit results/full/.")
    return json.loads(path.read_text(encoding="utf-8"))


# The MIME prefix myst-nb uses for a glued value that is stored but not shown in the notebook.
GLUE_PREFIX = "application/papermill.record/"
GLUE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def glue(name, value):
    """把一个运行结果交给正文引用：正文里写 {glue:text}`name:.1f`，网站构建时换成这次运行的值，
    重新运行后正文跟着变，不会留下旧数字。存储格式与 myst_nb.glue(name, value, display=False)
    相同（tests/test_plot_results.py 核对这一点），学生的环境因此不必安装网站构建工具。"""
    if not isinstance(name, str) or not GLUE_NAME.fullmatch(name):
        raise ValueError(f"glue name must be a Python identifier such as 'test_perplexity' "
                         f"(it follows the role's backquote), got {name!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"glue value for {name!r} must be a number or a string, got {type(value).__name__}; "
                        "convert tensors with .item()")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"glue value for {name!r} is {value}; the prose cannot quote a diverged run")
    IPython.display.display({GLUE_PREFIX + "text/plain": repr(value)}, raw=True,
                            metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})
