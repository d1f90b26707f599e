"""从一条长序列读取小批量 (X, Y)：Y 是 X 向后移一个词元（第 3 章讲授这些代码）。

两个迭代器的随机数都取自 rng（默认是 Python 的全局 random），所以用 random.seed(s)
固定种子后，它们给出的小批量与 d2l 的迭代器在同一种子下给出的完全相同。
"""
import random

import torch

from . import checks


def seq_data_iter_random(corpus, batch_size, num_steps, rng=random, random_offset=True):
    """随机采样：互不重叠的子序列以随机顺序组成小批量；同一行在相邻的小批量里取自原文不相邻的位置。
    random_offset=False 时总从第 0 个词元开始切（《动手学深度学习》第一版的做法）。"""
    checks.batch_shape(corpus, batch_size, num_steps)
    if random_offset:  # 随机偏移量：每个迭代周期切得不一样
        corpus = corpus[rng.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps  # 减 1：最后一个子序列也需要标签
    starts = list(range(0, num_subseqs * num_steps, num_steps))
    rng.shuffle(starts)
    for i in range(0, (num_subseqs // batch_size) * batch_size, batch_size):
        batch = starts[i:i + batch_size]
        X = torch.tensor([corpus[s:s + num_steps] for s in batch])
        Y = torch.tensor([corpus[s + 1:s + 1 + num_steps] for s in batch])
        yield X, Y


def seq_data_iter_sequential(corpus, batch_size, num_steps, rng=random, random_offset=True):
    """顺序分区：每个小批量的第 i 行紧接着上一个小批量的第 i 行，隐状态可以接着用。
    random_offset=False 时总从第 0 个词元开始切（《动手学深度学习》第一版的做法）。"""
    checks.batch_shape(corpus, batch_size, num_steps)
    offset = rng.randint(0, num_steps) if random_offset else 0
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset:offset + num_tokens]).reshape(batch_size, -1)
    Ys = torch.tensor(corpus[offset + 1:offset + 1 + num_tokens]).reshape(batch_size, -1)
    for i in range(0, (Xs.shape[1] // num_steps) * num_steps, num_steps):
        yield Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]


class SeqDataLoader:
    """可以反复迭代的加载器：每次 for 循环是一个迭代周期，偏移量重新随机选取（random_offset=False：总从头切）。
    use_random_iter 也告诉训练循环：随机采样时每个小批量都要重新初始化隐状态。"""

    def __init__(self, corpus, batch_size, num_steps, *, use_random_iter=False, random_offset=True,
                 rng=random):
        checks.batch_shape(corpus, batch_size, num_steps)
        checks.boolean("use_random_iter", use_random_iter)
        self.corpus, self.batch_size, self.num_steps = corpus, batch_size, num_steps
        self.use_random_iter, self.random_offset, self.rng = use_random_iter, random_offset, rng
        self.iter_fn = seq_data_iter_random if use_random_iter else seq_data_iter_sequential

    def __iter__(self):
        return self.iter_fn(self.corpus, self.batch_size, self.num_steps, self.rng,
                            random_offset=self.random_offset)


def load_data(name, batch_size, num_steps, *, use_random_iter=False, max_tokens=None):
    """（加载器, 词表）：'time_machine'（字符）或 'jay_lyrics'（前 max_tokens 个字符，默认 10,000）。"""
    from . import text
    if name == "time_machine":
        corpus, vocab = text.load_corpus_time_machine(max_tokens)
    elif name == "jay_lyrics":
        corpus, vocab = text.load_corpus_jay_lyrics(10000 if max_tokens is None else max_tokens)
    else:
        raise ValueError(f"unknown corpus {name!r}; use 'time_machine' or 'jay_lyrics'")
    return SeqDataLoader(corpus, batch_size, num_steps, use_random_iter=use_random_iter), vocab
