"""n 元语法：计数、齐普夫定律的拟合，以及后面各章比较时用的计数基线模型（第 3 章讲授）。

基线都在训练文本上计数，平滑常数等超参数在验证文本上选择，最后只在测试文本上报告一次：
  UniformLM        每个词元的概率都是 1/V（困惑度恰好等于词表大小）；
  UnigramLM        加 k 平滑的一元语法：完全不看上下文；
  BigramLM         加 k 平滑的二元语法：只看前一个词元；
  InterpolatedLM   二元语法与一元语法的线性插值（Jelinek–Mercer 平滑）。
"""
import collections
import copy
import math

import numpy as np

from . import checks


def ngrams(tokens, n):
    """一个词元列表中所有的 n 元组（元组形式）；n 大于词元个数时没有 n 元组，返回 []。"""
    checks.positive_int("n", n)
    if n > len(tokens):  # 不必切出 n 个空片段（n 很大时会耗尽内存）
        return []
    return list(zip(*(tokens[i:] for i in range(n))))


def ngram_freqs(tokens, n):
    """[(n 元组, 次数), ...]，按次数从多到少排列。"""
    return collections.Counter(ngrams(tokens, n)).most_common()


def zipf_exponent(counts, min_rank=1, max_rank=None):
    """在排名 min_rank..max_rank（从 1 起，含两端）上用最小二乘拟合
    log n_i = -alpha log i + c，counts 须按从多到少排好；返回 (alpha, c)。"""
    counts = np.asarray(counts, dtype=float)
    if not np.all(np.isfinite(counts)):
        raise ValueError(f"counts must be finite, got {counts[~np.isfinite(counts)][:3].tolist()}")
    checks.positive_int("min_rank", min_rank)
    if max_rank is not None:
        checks.positive_int("max_rank", max_rank)
    if np.any(counts <= 0):
        raise ValueError("counts must all be positive to take their logarithm")
    if np.any(np.diff(counts) > 0):
        raise ValueError("counts must be sorted from most to least frequent")
    max_rank = len(counts) if max_rank is None else min(max_rank, len(counts))
    if min_rank < 1 or max_rank - min_rank < 1:
        raise ValueError(f"need at least two ranks to fit a line, got ranks {min_rank}..{max_rank} "
                         f"of {len(counts)} counts")
    ranks = np.arange(min_rank, max_rank + 1)
    slope, intercept = np.polyfit(np.log(ranks), np.log(counts[min_rank - 1:max_rank]), 1)
    return float(-slope), float(intercept)


class LanguageModel:
    """计数语言模型的共同部分：prob(w, v) 是看到上下文 v 之后下一个是 w 的概率；
    context(corpus, i) 给出预测第 i 个词元时看的上下文（二元语法：前一个词元）。"""

    def context(self, corpus, i):
        return corpus[i - 1]

    def perplexity(self, corpus, ignore_index=None):
        """从第 2 个词元起，每个词元的负对数概率的平均值取指数（第 1 个词元只作上下文，
        所以各个模型预测的是同一批词元，可以直接比较）。标签等于 ignore_index 的位置不计入平均。
        概率为 0 时困惑度为无穷大。文本里的每一种词元都必须在模型的词表（vocab_size 个词元）之内。"""
        corpus = list(corpus)
        checks.vocab_size(self.vocab_size, corpus)
        if len(corpus) < 2:
            raise ValueError(f"need at least 2 tokens to score a prediction, got {len(corpus)}")
        nll, count = 0.0, 0
        for i in range(1, len(corpus)):
            if corpus[i] == ignore_index:
                continue
            p = self.prob(corpus[i], self.context(corpus, i))
            if p == 0.0:
                return math.inf
            nll, count = nll - math.log(p), count + 1
        if count == 0:
            raise ValueError(f"every target equals ignore_index={ignore_index}: nothing to score")
        return math.exp(nll / count)


class UniformLM(LanguageModel):
    """P(w) = 1 / V：什么也没学到的模型。"""

    def __init__(self, vocab_size):
        self.vocab_size = checks.positive_int("vocab_size", vocab_size)

    def prob(self, w, v=None):
        return 1.0 / self.vocab_size


class UnigramLM(LanguageModel):
    """P(w) = (c(w) + k) / (N + k V)：加 k 平滑的一元语法，不看上下文。"""

    def __init__(self, corpus, vocab_size, k=1.0):
        corpus = list(corpus)
        self.vocab_size = checks.vocab_size(vocab_size, corpus)
        self.k = checks.nonnegative_number("k", k)
        self.counts = collections.Counter(corpus)
        self.total = sum(self.counts.values())

    def prob(self, w, v=None):
        denom = self.total + self.k * self.vocab_size
        if denom == 0:
            raise ZeroDivisionError("no counts and k=0: the MLE is undefined")
        return (self.counts[w] + self.k) / denom


class BigramLM(LanguageModel):
    """P(w | v) = (c(v, w) + k) / (c(v, ·) + k V)：加 k 平滑；k = 0 就是最大似然估计。"""

    def __init__(self, corpus, vocab_size, k=1.0):
        corpus = list(corpus)
        self.vocab_size = checks.vocab_size(vocab_size, corpus)
        self.k = checks.nonnegative_number("k", k)
        self.pair_counts = collections.Counter(ngrams(corpus, 2))
        # 上下文的次数直接由词对数出来，这样每一行的概率之和恰好为 1
        self.context_counts = collections.Counter()
        for (v, _), count in self.pair_counts.items():
            self.context_counts[v] += count

    def with_k(self, k):
        """同样的计数、另一个平滑常数（不重新计数）。"""
        other = copy.copy(self)  # 浅复制：两个模型共用只读的计数
        other.k = checks.nonnegative_number("k", k)
        return other

    def prob(self, w, v):
        denom = self.context_counts[v] + self.k * self.vocab_size
        if denom == 0:
            raise ZeroDivisionError(f"context {v!r} never seen and k=0: the MLE is undefined")
        return (self.pair_counts[(v, w)] + self.k) / denom


class InterpolatedLM(LanguageModel):
    """P(w | v) = λ P_MLE(w | v) + (1 - λ) P_unigram(w)；上下文 v 从没出现过时只用一元语法。
    二元语法的最大似然估计负责见过的搭配，一元语法给没见过的搭配留下合理的概率。"""

    def __init__(self, bigram, unigram, lam):
        self.bigram, self.unigram, self.vocab_size = bigram, unigram, unigram.vocab_size
        self.lam = checks.probability("lam", lam)

    def prob(self, w, v):
        context = self.bigram.context_counts[v]
        p_unigram = self.unigram.prob(w)
        if context == 0:
            return p_unigram
        return self.lam * self.bigram.pair_counts[(v, w)] / context + (1 - self.lam) * p_unigram


def continuation_tables(corpus, n):
    """Kneser–Ney 平滑的次数表，第 k 阶（k + 1 元组）一张：最高阶是普通次数，低阶是接续次数
    （w 跟在多少种不同的上文后面）。返回（次数, 每个上文之后的次数之和, 每个上文之后的词元种数）。"""
    corpus = list(corpus)
    grams = [collections.Counter(ngrams(corpus, k)) for k in range(1, n + 1)]
    counts = [collections.Counter(g[1:] for g in grams[k + 1]) for k in range(n - 1)] + [grams[-1]]
    totals = [collections.Counter() for _ in range(n)]
    types = [collections.Counter() for _ in range(n)]
    for k, table in enumerate(counts):
        for gram, count in table.items():
            totals[k][gram[:-1]] += count
            types[k][gram[:-1]] += 1
    return counts, totals, types


class KneserNeyLM(LanguageModel):
    """插值的 Kneser–Ney 平滑 n 元语法（第 3.1 节）：每一阶都从次数里减去折扣 discount，
    省下的概率按低一阶的分布分给所有词元；最低一阶之下是均匀分布。"""

    def __init__(self, corpus, vocab_size, n, discount=0.75):
        self.vocab_size = checks.positive_int("vocab_size", vocab_size)
        self.n = checks.positive_int("n", n)
        self.discount = checks.probability("discount", discount)
        self.counts, self.totals, self.types = continuation_tables(corpus, n)

    def with_discount(self, discount):
        """同样的计数、另一个折扣（不重新计数）。"""
        other = copy.copy(self)
        other.discount = checks.probability("discount", discount)
        return other

    def context(self, corpus, i):
        return tuple(corpus[max(0, i - self.n + 1):i])

    def prob(self, w, context):
        p = 1 / self.vocab_size  # 从均匀分布出发，逐阶加上更长的上文
        for k in range(self.n):
            history = tuple(context[len(context) - k:]) if k else ()
            total = self.totals[k][history] if len(history) == k else 0
            if total == 0:  # 没见过的上文：更长的上文也不可能见过
                break
            kept = max(self.counts[k][history + (w,)] - self.discount, 0) / total
            p = kept + self.discount * self.types[k][history] / total * p
        return p


def select(candidates, valid_corpus, ignore_index=None):
    """在验证文本上给每个候选模型打分；返回（困惑度最低的候选的名字, {名字: 验证困惑度}）。"""
    if not candidates:
        raise ValueError("candidates is empty; give at least one model to compare")
    scores = {name: lm.perplexity(valid_corpus, ignore_index) for name, lm in candidates.items()}
    return min(scores, key=scores.get), scores


def select_k(train_corpus, valid_corpus, vocab_size, ks, ignore_index=None):
    """对 ks 中的每个 k 在 train_corpus 上拟合 BigramLM、在 valid_corpus 上打分。
    返回（验证困惑度最低的 k, {k: 验证困惑度}）。"""
    if not ks:
        raise ValueError("ks is empty; give at least one smoothing constant to try")
    counts = BigramLM(train_corpus, vocab_size, k=0)
    return select({k: counts.with_k(k) for k in ks}, valid_corpus, ignore_index)


def fit_baselines(train_corpus, valid_corpus, vocab_size, ks, lams, ignore_index=None):
    """四个基线，超参数都在验证文本上选出：{名字: (模型, 选出的超参数, 验证困惑度)}。
    ks 是一元、二元语法的平滑常数候选，lams 是插值系数 λ 的候选；ignore_index 的标签不计分。"""
    bigram_counts = BigramLM(train_corpus, vocab_size, k=0)
    uniform = UniformLM(vocab_size)
    out = {"uniform": (uniform, {}, uniform.perplexity(valid_corpus, ignore_index))}
    k, scores = select({k: UnigramLM(train_corpus, vocab_size, k) for k in ks}, valid_corpus,
                       ignore_index)
    out["unigram"] = (UnigramLM(train_corpus, vocab_size, k), {"k": k}, scores[k])
    k, scores = select({k: bigram_counts.with_k(k) for k in ks}, valid_corpus, ignore_index)
    out["bigram"] = (bigram_counts.with_k(k), {"k": k}, scores[k])
    grid = {(lam, k): InterpolatedLM(bigram_counts, UnigramLM(train_corpus, vocab_size, k), lam)
            for lam in lams for k in ks}
    best, scores = select(grid, valid_corpus, ignore_index)
    out["interpolated"] = (grid[best], {"lam": best[0], "k": best[1]}, scores[best])
    return out


def fit_kneser_ney(train_corpus, valid_corpus, vocab_size, orders, discounts, ignore_index=None):
    """对每个阶数 n（orders）和折扣（discounts）拟合 KneserNeyLM，在验证文本上选出最好的一个：
    返回（模型, {"n": n, "discount": d}, 验证困惑度, {(n, d): 验证困惑度}）。"""
    counted = {n: KneserNeyLM(train_corpus, vocab_size, n) for n in orders}
    grid = {(n, d): counted[n].with_discount(d) for n in orders for d in discounts}
    best, scores = select(grid, valid_corpus, ignore_index)
    return grid[best], {"n": best[0], "discount": best[1]}, scores[best], scores
