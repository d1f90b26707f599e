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


SEED_RUN_KEYS = ("best_epoch", "valid_perplexity", "test_perplexity", "seconds_per_epoch")


def save_seed_runs(name, *, settings, runs, parameters, full):
    """保存一个“每个模型用几个种子各训练一次”的比较（第 8、9 章），供第 10 章的总表读取。
    settings：所有模型共用的设置，必须含 train_chars 和 seeds；
    runs：{模型名: [(选出的周期, 验证困惑度, 测试困惑度, 每周期秒数), ...]}，每个种子一项；
    parameters：{模型名: 参数个数}。快速运行什么也不写。"""
    seeds = settings.get("seeds") if isinstance(settings, dict) else None
    if not seeds or "train_chars" not in settings:
        raise ValueError("settings must be a dict with 'train_chars' and a non-empty 'seeds' list, "
                         f"got {settings!r}")
    if set(runs) != set(parameters):
        raise ValueError(f"runs and parameters must name the same models: {sorted(runs)} vs {sorted(parameters)}")
    models = {}
    for model, model_runs in runs.items():
        if len(model_runs) != len(seeds) or any(len(run) != len(SEED_RUN_KEYS) for run in model_runs):
            raise ValueError(f"runs[{model!r}] must hold one (best_epoch, valid_perplexity, "
                             f"test_perplexity, seconds_per_epoch) tuple per seed in {seeds}, got {model_runs!r}")
        models[model] = {"parameters": int(parameters[model]),
                         "runs": [dict(zip(SEED_RUN_KEYS, (int(run[0]), *map(float, run[1:]))))
                                  for run in model_runs]}
    save(name, {"settings": settings, "models": models}, full=full)


def load_seed_runs(name):
    """读取 save_seed_runs 写下的比较：{"settings": ..., "models": {模型名: {"parameters", "runs"}}}。"""
    record = load(name)
    if set(record) != {"settings", "models"}:
        raise ValueError(f"results/full/{name}.json is not a seed-run comparison (keys {sorted(record)}); "
                         "it is written by results.save_seed_runs")
    return record


def comparable(records, keys):
    """几个 save_seed_runs 记录（名字 -> 记录）的 settings 在 keys 上必须相同，
    它们的分数才能放进同一张表；不同时报错，指出哪一项、各是多少。返回共同的设置。"""
    if not records:
        raise ValueError("comparable needs at least one record")
    first_name, first = next(iter(records.items()))
    for key in keys:
        values = {name: record["settings"].get(key) for name, record in records.items()}
        if any(value != values[first_name] for value in values.values()):
            raise ValueError(f"setting {key!r} differs between the comparisons: {values}; re-run the "
                             "chapters that write them in full mode with the same training text and budget")
    return {key: first["settings"][key] for key in keys}
