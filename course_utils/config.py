"""运行模式、设备与随机种子。各章的超参数写在各章第一个设置单元里，不在这里。

两种运行模式：
  快速（默认）  每章几秒钟，用来检查代码能运行、模型确实在学习；
  完整          教材的完整设置，网站上展示的就是完整运行的输出；设置环境变量
                COURSE_FULL=1，或在设置单元里直接写 FULL = True。

设备：有 CUDA 时用 GPU，否则用 CPU；COURSE_DEVICE=cpu 或 cuda 可以强制指定。
"""
import os
import random

import numpy as np
import torch

from . import checks

SEED = 42


def _env_choice(name, allowed, default):
    """读取一个只能取 allowed 中某个值的环境变量（拼错了就报错，而不是悄悄忽略）。"""
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not understood; use one of {sorted(allowed)} "
                         f"or unset it (default: {default!r}).")
    return value


def is_full():
    """COURSE_FULL=1 时为 True：使用教材的完整设置。"""
    return _env_choice("COURSE_FULL", {"0", "1"}, "0") == "1"


def device():
    """训练用的设备：有 CUDA（或要求用 CUDA）时用 GPU，否则用 CPU。"""
    wanted = _env_choice("COURSE_DEVICE", {"cpu", "cuda"}, "auto")
    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("COURSE_DEVICE=cuda but no CUDA GPU is visible to torch "
                           f"(torch {torch.__version__}); unset COURSE_DEVICE or set it to cpu.")
    if wanted == "cpu":
        return torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_seed(seed=SEED):
    """固定 Python、NumPy 和 PyTorch 的随机种子：同一台机器上重新运行得到同样的数字。
    seed 是 0..2**32 - 1 的整数；不合法的 seed 在重设任何一个生成器之前就报错。"""
    seed = checks.seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


def about_run(full, device, *, trains=True, **settings):
    """打印一行：这是完整运行还是快速运行、用什么设备，以及随模式变化的设置。
    trains=False：这一页不训练模型，只读各章完整运行记下的结果，两种模式显示同样的数字。"""
    if not isinstance(full, bool):
        raise TypeError(f"full must be True or False, got {full!r}")
    values = "，".join(f"{name} = {value}" for name, value in settings.items())
    if not trains:
        line = "这一页不训练模型，只读取各章完整运行时记下的结果：快速运行与完整运行显示同样的数字"
    elif full:
        line = "完整运行（本页的完整设置）"
    else:
        line = ("快速运行：训练很短，下面的数字与完整运行的结果不同，只用来检查代码能运行、"
                "模型在学习；把 FULL 改成 True 可以得到完整的结果")
    print(f"{line}。设备：{device}。" + (f"\n{values}" if values else ""))
