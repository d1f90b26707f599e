"""习题答案各页共用的小工具：在歌词上从固定的随机种子训练一个新模型（用第 5 章的训练循环），
打印一行结果，并把几个种子的结果汇总成“平均（范围）”。"""
import copy
import functools
import statistics

import torch

from . import checks, config, iterators, models, results, text
from .train import SGD, format_perplexity, train


class KeepState:
    """原样交出一个加载器的小批量，却告诉训练循环“接着用上一个小批量的隐状态”
    （第 7 章练习 4：随机采样时只在迭代周期开始时初始化隐状态）。"""
    use_random_iter = False

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        return iter(self.loader)


@functools.lru_cache(maxsize=None)
def _read_lyrics(chars, eval_chars):
    corpus, vocab = text.load_corpus_jay_lyrics(chars)
    scored = slice(None, eval_chars)
    return corpus, vocab, text.lyrics_valid(vocab)[scored], text.lyrics_test(vocab)[scored]


def _lyrics(chars, eval_chars):
    """Read once per page, but every caller gets its own copies: a cell that reverses the corpus
    or edits the vocabulary must not change what the next run trains on."""
    corpus, vocab, valid, test = _read_lyrics(chars, eval_chars)
    return list(corpus), copy.deepcopy(vocab), list(valid), list(test)


class LyricsRuns:
    """一页习题共用的设置：训练文本是歌词前 max_chars 个字符，小批量形状 (batch_size, num_steps)，
    从零实现的模型默认 num_hiddens 个隐藏单元；eval_chars 不为 None 时只评估验证/测试文本开头的
    这么多个字符（快速运行用）；验证困惑度和各章一样只在认识的字上计分（标签是 <unk> 的位置
    不计入），known_only=False 时才把它们也算进去（只用来演示 <unk> 的代价）。"""

    def __init__(self, *, max_chars, batch_size, num_steps, device, num_hiddens=256, eval_chars=None,
                 known_only=True):
        self.max_chars = checks.positive_int("max_chars", max_chars)
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.num_steps = checks.positive_int("num_steps", num_steps)
        self.num_hiddens = checks.positive_int("num_hiddens", num_hiddens)
        self.eval_chars = None if eval_chars is None else checks.positive_int("eval_chars", eval_chars)
        self.known_only = checks.boolean("known_only", known_only)
        self.device = device

    def lyrics(self, chars=None):
        """歌词前 chars（None：max_chars）个字符的（索引序列, 词表, 验证文本, 测试文本）。
        每次调用都得到新的副本，改动它们不影响之后的训练。"""
        chars = self.max_chars if chars is None else checks.positive_int(
            "chars", chars, maximum=text.LYRICS_TRAIN_CHARS,
            hint="; characters 20,000-24,000 are the test and validation text")
        return _lyrics(chars, self.eval_chars)

    def fit(self, make_net, make_updater, epochs, clip_theta, *, chars=None, steps=None,
            use_random_iter=False, keep_state=False, every_epoch=False, seed=config.SEED):
        """从随机种子 seed 出发训练一个新模型，返回（模型, 训练记录）。make_net(词表大小) 构造模型，
        make_updater(参数) 构造优化器；验证困惑度在最后一个周期（every_epoch：每个周期）测量，
        计分方式见 known_only。
        chars、steps 为 None 时用这一页的 max_chars、num_steps。"""
        steps = self.num_steps if steps is None else checks.positive_int("steps", steps)
        corpus, vocab, valid, _ = self.lyrics(chars)
        config.set_seed(seed)
        net = make_net(len(vocab))
        updater = make_updater([p for p in net.parameters() if p.requires_grad])
        loader = iterators.SeqDataLoader(corpus, self.batch_size, steps,
                                         use_random_iter=use_random_iter)
        history = train(net, KeepState(loader) if keep_state else loader, vocab, updater, epochs,
                        device=self.device, clip_theta=clip_theta, pred_period=epochs,
                        valid_corpus=valid, valid_period=1 if every_epoch else epochs,
                        ignore_index=vocab.unk if self.known_only else None,
                        log=None, progress=False)
        return net, history

    def scratch(self, get_params, init_state, forward, num_hiddens=None):
        """make_net：一个从零实现的循环网络（第 5 章的 RNNModelScratch），
        num_hiddens 为 None 时取这一页的设置。"""
        num_hiddens = self.num_hiddens if num_hiddens is None else checks.positive_int(
            "num_hiddens", num_hiddens)
        return lambda vocab_size: models.RNNModelScratch(
            vocab_size, num_hiddens, device=self.device, get_params=get_params,
            init_state=init_state, forward_fn=forward)


def sgd(lr):
    """make_updater：第 5 章的小批量随机梯度下降。"""
    return lambda params: SGD(params, lr)


def adam(lr):
    """make_updater：Adam。"""
    return lambda params: torch.optim.Adam(params, lr)


def report(name, history):
    """一行：最后一个周期的训练困惑度、验证困惑度和每个周期的秒数。"""
    print(f"{name:<22} 训练困惑度 {format_perplexity(history.perplexity[-1]):>8}   "
          f"验证 {format_perplexity(history.valid_perplexity[-1]):>9}   "
          f"每周期 {history.train_seconds / len(history.epochs):.2f} 秒")


def spread(values):
    """几个种子的结果：（平均, 最小, 最大）。"""
    values = list(values)
    if not values:
        raise ValueError("spread needs the result of at least one seed; got none")
    return statistics.fmean(values), min(values), max(values)


def format_spread(values, fmt=".1f"):
    """“平均 m（范围 lo–hi，n 个种子）”，例如 format_spread([510.2, 515.0, 536.3])。"""
    values = list(values)
    mean, low, high = spread(values)
    return f"平均 {mean:{fmt}}（范围 {low:{fmt}}–{high:{fmt}}，{len(values)} 个种子）"


def glue_spread(name, values):
    """把几个种子的（平均, 最小, 最大）交给正文：name_mean、name_min、name_max。"""
    for stat, value in zip(("mean", "min", "max"), spread(values)):
        results.glue(f"{name}_{stat}", value)
