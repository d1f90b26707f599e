"""n-gram counts, a Zipf-law fit and an add-k smoothed bigram language model
(the baseline that the RNNs of chapters 5-7 must beat)."""
import collections
import copy
import math

import numpy as np


def ngrams(tokens, n):
    """All n-grams of a token list, as tuples."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return list(zip(*(tokens[i:] for i in range(n))))


def ngram_freqs(tokens, n):
    """[(n-gram, count), ...] most frequent first."""
    return collections.Counter(ngrams(tokens, n)).most_common()


def zipf_exponent(counts, min_rank=1, max_rank=None):
    """Fit log n_i = -alpha log i + c by least squares over ranks min_rank..max_rank
    (1-based, inclusive) of counts sorted from most to least frequent; returns (alpha, c).

    The window matters: the first few ranks (stop words) and the long tail of n-grams seen
    once or twice (flat steps of equal counts) both bend away from a straight line."""
    counts = np.asarray(counts, dtype=float)
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


class BigramLM:
    """P(w | v) = (c(v, w) + k) / (c(v, .) + k V): add-k smoothing; k = 0 is the MLE."""

    def __init__(self, corpus, vocab_size, k=1.0):
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be >= 1, got {vocab_size}")
        self.vocab_size, self.k = vocab_size, k
        self.pair_counts = collections.Counter(ngrams(list(corpus), 2))
        # Count contexts from the pairs themselves so each row sums to exactly 1.
        self.context_counts = collections.Counter()
        for (v, _), count in self.pair_counts.items():
            self.context_counts[v] += count

    def with_k(self, k):
        """The same counts with another smoothing constant (nothing is counted again)."""
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        other = copy.copy(self)  # shallow: the two models share their read-only counters
        other.k = k
        return other

    def prob(self, w, v):
        denom = self.context_counts[v] + self.k * self.vocab_size
        if denom == 0:
            raise ZeroDivisionError(f"context {v!r} never seen and k=0: the MLE is undefined")
        return (self.pair_counts[(v, w)] + self.k) / denom

    def perplexity(self, corpus):
        """exp of the mean negative log-likelihood of each token given the one before
        (the first token is only a context). A pair the model gives probability 0 (possible
        only with k=0) makes the perplexity infinite."""
        corpus = list(corpus)
        if len(corpus) < 2:
            raise ValueError(f"need at least 2 tokens to score a bigram, got {len(corpus)}")
        nll = 0.0
        for v, w in zip(corpus, corpus[1:]):
            p = self.prob(w, v)
            if p == 0.0:
                return math.inf
            nll -= math.log(p)
        return math.exp(nll / (len(corpus) - 1))


def select_k(train_corpus, valid_corpus, vocab_size, ks):
    """Fit a BigramLM on train_corpus for every k in ks and score it on valid_corpus.
    Returns (the k with the lowest validation perplexity, {k: validation perplexity})."""
    if not ks:
        raise ValueError("ks is empty; give at least one smoothing constant to try")
    counts = BigramLM(train_corpus, vocab_size, k=0)
    scores = {k: counts.with_k(k).perplexity(valid_corpus) for k in ks}
    return min(scores, key=scores.get), scores
