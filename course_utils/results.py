"""各章完整运行得到的指标：写在 results/full/<名字>.json 里并随仓库提交，
后面的章节（例如第 7 章的对比表）只读这些提交过的文件，不依赖本次是否运行过别的章节。"""
import json
import os
import tempfile
from pathlib import Path

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
