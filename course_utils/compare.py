"""同一套训练方法（第 9 章讲授），第 9–11 章的每个比较都用它：从一个随机种子训练一个新模型，
每个迭代周期在验证文本上测一次困惑度，连续几次没有新低就停下（早停），取回验证文本上最好的参数，
最后在测试文本上只测一次。验证与测试都只给训练文本里见过的字计分（未知字 <unk> 不计，
计数模型也一样）。"""
import dataclasses
import statistics

import torch

from . import config, iterators
from .train import evaluate_perplexity, load_params, train


@dataclasses.dataclass(frozen=True)
class Recipe:
    """训练设置：AdamW（学习率 lr，权重衰减 weight_decay），梯度裁剪，小批量形状，
    至多 max_epochs 个周期、连续 patience 次验证没有新低就停；eval_batch_size 是验证/测试文本
    同时读的段数（长文本用，见第 5 章的 evaluate_perplexity）。"""
    lr: float = 3e-3
    weight_decay: float = 0.0
    clip_theta: float = 1.0
    batch_size: int = 32
    num_steps: int = 35
    max_epochs: int = 20
    patience: int = 3
    eval_batch_size: int = 1


def fit(make_net, corpus, vocab, valid_ids, test_ids, recipe, *, seed, device):
    """从随机种子 seed 训练 make_net() 造出的新模型；返回（指标字典, 训练记录）。"""
    config.set_seed(seed)
    net = make_net().to(device)
    loader = iterators.SeqDataLoader(corpus, recipe.batch_size, recipe.num_steps)
    updater = torch.optim.AdamW(net.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    history = train(net, loader, vocab, updater, recipe.max_epochs, device=device,
                    clip_theta=recipe.clip_theta, valid_corpus=valid_ids, valid_period=1,
                    valid_batch_size=recipe.eval_batch_size, ignore_index=vocab.unk,
                    patience=recipe.patience, log=None, progress=False)
    load_params(net, history.best_params)  # 验证文本上最好的那个周期
    test = evaluate_perplexity(net, test_ids, device=device, batch_size=recipe.eval_batch_size,
                               ignore_index=vocab.unk)
    metrics = {"best_epoch": history.best_epoch, "epochs_trained": history.epochs[-1],
               "valid_perplexity": min(history.valid_perplexity), "test_perplexity": test,
               "seconds_per_epoch": history.train_seconds / len(history.epochs)}
    return metrics, history


def paired_differences(a, b):
    """同一组种子上两个模型的成绩之差 a - b（每个种子一对）：返回（平均差, 最小差, 最大差, a 更低的种子数）。"""
    a, b = list(a), list(b)
    if not a or len(a) != len(b):
        raise ValueError(f"need one result per seed for both models, got {len(a)} and {len(b)}")
    diffs = [x - y for x, y in zip(a, b)]
    return statistics.fmean(diffs), min(diffs), max(diffs), sum(d < 0 for d in diffs)
