"""各章完整运行的结果：后面的章节读取前面章节完整运行时记下的数字，不必自己重新训练。

结果随 course_utils 一起发布（course_utils/full_results/<名字>.json，包数据），所以用 pip
安装的 course_utils（wheel、Colab、单独下载的一章）也能读到。每个文件只有一种形状：

    {"settings": {...训练时实际用的设置...}, "metrics": {...得到的数字...}}

    results.save(name, settings=..., metrics=..., full=FULL)  # 完整运行时记下；快速运行什么也不写
    results.load(name)             # -> {"settings": ..., "metrics": ...}，随课程发布的那一份
    results.comparable({name: results.load(name), ...}, keys)  # 这些设置处处相同才能比较
    results.glue(name, value)      # 把一个数交给正文引用（myst-nb 的 glue）

规则（save 检查，违反时报错并说明怎样改）：name 与字典的键只用 ASCII（字母、数字、下划线等，
展示用的中文名字写在页面里，不写进结果）；值只能是 JSON 能表示的数：int、float、str、bool、None
以及它们组成的列表和字典。张量、NumPy 数要先用 .item() 或 float() 转成 Python 数；NaN 与无穷大
不写（发散的运行没有可以比较的数字）。

写到哪里：
- `make full`（tools/notebooks.py）运行一页时设置环境变量 COURSE_RESULTS_STAGING：save 写到那个
  暂存文件夹，整页都运行成功后执行器才把文件移进 course_utils/full_results/；中途失败的一页不改变
  任何已发布的结果。同一页里先 save 后 load 读到的是这次运行暂存的那一份。
- 其他情况（在 JupyterLab 里把 FULL 设为 True，或者用 pip 安装的包）save 写到环境变量
  COURSE_RESULTS_DIR 指定的文件夹，默认是当前文件夹下的 course_results/，并打印写到了哪里；
  随课程发布的结果（也就是 load 读到的）不变，更不会写进 site-packages。
文件先写到同一文件夹里的临时文件（.part），再原子地改名，权限按 umask；写入进程被杀死留下的
.part 会在下一次 save 时清掉。

load 在环境变量 COURSE_RESULTS_READS 指定的文件里记下读过的名字（每行一个）：执行器据此在
笔记本的元数据里记录这一页读了哪些结果文件，tests/test_notebooks.py 在它们改变后报告这一页过时。
"""
import importlib.resources
import json
import math
import os
import re
import tempfile
import time
from pathlib import Path

import IPython.display

PACKAGE_DIR = "full_results"  # course_utils/full_results/，随包发布
STAGING_ENV, READS_ENV, OUTPUT_ENV = "COURSE_RESULTS_STAGING", "COURSE_RESULTS_READS", "COURSE_RESULTS_DIR"
NAME = re.compile(r"[a-z][a-z0-9_]*")
KEY = re.compile(r"[\x20-\x7e]+")  # 可打印的 ASCII
STALE_PART_S = 3600  # 没有进程号可查时（Windows），这么久以前的 .part 算作被杀死的写入留下的


def _check_name(name):
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"results name must be lower-case ASCII letters, digits and underscores, "
                         f"starting with a letter (it names the file <name>.json), got {name!r}")
    return name


def _check_value(value, where):
    """JSON 能原样保存、读回的值；否则报错，指出是哪一项、怎样转换。"""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}: NaN and infinity are not results (a diverged run); "
                             "fix the run or leave the value out")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not KEY.fullmatch(key):
                raise ValueError(f"{where} has the key {key!r}: keys must be printable ASCII strings "
                                 "such as 'test_perplexity' or 'lyrics_20000' (put display names in the page)")
            _check_value(item, f"{where}[{key!r}]")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
        return
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    hint = ("call .item() on a one-element tensor (or .tolist())" if kind.startswith("torch")
            else "call float() or int() on a NumPy number (or .tolist() on an array)"
            if kind.startswith("numpy") else "convert it to a number, string, list or dict")
    raise TypeError(f"{where} is a {kind}, which JSON cannot hold: {hint}")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _clean_stale_parts(folder):
    """删掉写入进程已经不在（被杀死）时留下的 .part 文件。"""
    for part in folder.glob(".*.part"):
        match = re.fullmatch(r"\..+\.(\d+)\.[^.]+\.part", part.name)
        try:
            if os.name == "posix" and match:
                stale = not _pid_alive(int(match.group(1)))
            else:
                stale = time.time() - part.stat().st_mtime > STALE_PART_S
            if stale:
                part.unlink()
        except FileNotFoundError:
            pass


def write_json(path, record):
    """把 record 原子地写成 path：先写同一文件夹里的 .part，fsync，再改名；失败时不留下 .part。
    文件权限按 umask（与普通的 open 相同），不是 tempfile 的 0600。"""
    path = Path(path)
    text = json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale_parts(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.{os.getpid()}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def save(name, *, settings, metrics, full):
    """完整运行（full=True）时记下一页的结果 {"settings": settings, "metrics": metrics}；
    快速运行的数字不能代表这一页，什么也不写。写到哪里见模块说明；返回 None（页面上一个以 save
    结尾的单元因此不显示任何路径）。
    settings 写训练时实际用的变量（不要重新手打一遍数值），metrics 写得到的数字。"""
    _check_name(name)
    if not isinstance(full, bool):
        raise TypeError(f"full must be True or False (the page's FULL), got {full!r}")
    for part, value in (("settings", settings), ("metrics", metrics)):
        if not isinstance(value, dict):
            raise TypeError(f"{part} of {name!r} must be a dict, got {type(value).__name__}")
        _check_value(value, f"{part} of {name!r}")
    if not full:
        return None
    record = {"settings": settings, "metrics": metrics}
    staging = os.environ.get(STAGING_ENV)
    if staging:
        write_json(Path(staging) / f"{name}.json", record)
        return None
    path = write_json(Path(os.environ.get(OUTPUT_ENV) or "course_results") / f"{name}.json", record)
    print(f"完整运行的结果写在 {path}（随课程发布、load 读取的那一份不变）")
    return None


def _shipped(name):
    return importlib.resources.files("course_utils") / PACKAGE_DIR / f"{name}.json"


def load(name):
    """读取结果 {"settings": ..., "metrics": ...}：`make full` 运行这一页时先找本次暂存的，
    否则读随课程发布的那一份。文件缺失、截断或形状不对时报错，写明是哪个文件。"""
    _check_name(name)
    staging = os.environ.get(STAGING_ENV)
    source = Path(staging) / f"{name}.json" if staging else None
    if source is None or not source.is_file():
        source = _shipped(name)
    if not source.is_file():
        raise FileNotFoundError(
            f"no results {name}.json in course_utils/{PACKAGE_DIR}/: run the page that saves "
            f"{name!r} in full mode (`make full`), or install a course_utils that ships it")
    raw = source.read_text(encoding="utf-8")
    try:
        record = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"results file {name}.json ({source}) is not valid JSON ({exc}; "
                         f"{len(raw)} characters): it was cut short or emptied; restore it "
                         f"(git checkout) or re-run the page that saves it in full mode") from None
    if not isinstance(record, dict) or set(record) != {"settings", "metrics"}:
        keys = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"results file {name}.json ({source}) must hold {{'settings', 'metrics'}}, "
                         f"found {keys}; it is written by results.save")
    reads = os.environ.get(READS_ENV)
    if reads:
        with open(reads, "a", encoding="utf-8") as log:
            log.write(name + "\n")
    return record


def comparable(records, keys):
    """几份结果（名字 -> load 读到的记录）的 settings 在 keys 上必须相同，它们的数字才能放进
    同一张表；不同或缺少时报错，写明是哪一项、哪个文件里各是多少。返回共同的设置。"""
    if not records:
        raise ValueError("comparable needs at least one record")
    for key in keys:
        values = {}
        for name, record in records.items():
            settings = record.get("settings") if isinstance(record, dict) else None
            if not isinstance(settings, dict) or key not in settings:
                raise ValueError(f"{name}.json records no setting {key!r}; re-run the page that saves "
                                 f"it in full mode (its results.save must include {key!r})")
            values[f"{name}.json"] = settings[key]
        if len({json.dumps(v, sort_keys=True) for v in values.values()}) > 1:
            listed = ", ".join(f"{file} has {value!r}" for file, value in values.items())
            raise ValueError(f"setting {key!r} differs: {listed}; re-run the pages that save them in "
                             "full mode with the same settings")
    first = next(iter(records.values()))
    return {key: first["settings"][key] for key in keys}


SEED_RUN_KEYS = ("best_epoch", "valid_perplexity", "test_perplexity", "seconds_per_epoch")


def save_seed_runs(name, *, settings, runs, parameters, full):
    """save 的一种常用写法：每个模型用几个种子各训练一次（第 8、9 章），第 10 章的总表读取。
    settings 必须含 train_chars 和 seeds；runs：{模型: [(选出的周期, 验证困惑度, 测试困惑度,
    每周期秒数), ...]}，每个种子一项；parameters：{模型: 参数个数}。模型的名字是 ASCII 键。
    写下的 metrics：{"models": {模型: {"parameters": 个数, "runs": [{SEED_RUN_KEYS 各项}, ...]}}}。"""
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
    return save(name, settings=settings, metrics={"models": models}, full=full)


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
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()  # 一个 NumPy 数或只有一个元素的张量：存 Python 数（myst-nb 才能按格式显示）
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"glue value for {name!r} must be a number or a string, got {type(value).__name__}; "
                        "convert arrays and tensors of several values to one number first")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"glue value for {name!r} is {value}; the prose cannot quote a diverged run")
    IPython.display.display({GLUE_PREFIX + "text/plain": repr(value)}, raw=True,
                            metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})
