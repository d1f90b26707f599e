"""n-gram counts and an add-k smoothed bigram language model (the baseline RNNs must beat)."""
import collections
import math


def ngrams(tokens, n):
    """All n-grams of a token list, as tuples."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return list(zip(*(tokens[i:] for i in range(n))))


def ngram_freqs(tokens, n):
    """[(n-gram, count), ...] most frequent first."""
    return collections.Counter(ngrams(tokens, n)).most_common()


class BigramLM:
    """P(w | v) = (c(v, w) + k) / (c(v, .) + k V): add-k smoothing; k = 0 is the MLE."""

    def __init__(self, corpus, vocab_size, k=1.0):
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        self.vocab_size, self.k = vocab_size, k
        self.pair_counts = collections.Counter(ngrams(list(corpus), 2))
        # Count contexts from the pairs themselves so each row sums to exactly 1.
        self.context_counts = collections.Counter(v for v, _ in self.pair_counts.elements())

    def prob(self, w, v):
        denom = self.context_counts[v] + self.k * self.vocab_size
        if denom == 0:
            raise ZeroDivisionError(f"context {v!r} never seen and k=0: the MLE is undefined")
        return (self.pair_counts[(v, w)] + self.k) / denom

    def perplexity(self, corpus):
        """exp of the mean negative log-likelihood of each token given the one before."""
        corpus = list(corpus)
        nll = -sum(math.log(self.prob(w, v)) for v, w in zip(corpus, corpus[1:]))
        return math.exp(nll / (len(corpus) - 1))
