import math

import pytest

from course_utils import ngram

CORPUS = [0, 1, 2, 1, 2, 2, 0, 1]


def test_ngrams_and_freqs():
    assert ngram.ngrams([1, 2, 3], 2) == [(1, 2), (2, 3)]
    assert ngram.ngrams([1, 2, 3], 3) == [(1, 2, 3)]
    assert ngram.ngram_freqs(CORPUS, 2)[:3] == [((0, 1), 2), ((1, 2), 2), ((2, 1), 1)]
    with pytest.raises(ValueError):
        ngram.ngrams(CORPUS, 0)


@pytest.mark.parametrize("k", [0.0, 0.5, 1.0])
def test_probabilities_sum_to_one(k):
    lm = ngram.BigramLM(CORPUS, vocab_size=4, k=k)
    for v in {0, 1, 2}:  # contexts that occur
        assert math.isclose(sum(lm.prob(w, v) for w in range(4)), 1.0)
    if k > 0:  # smoothing also covers a context never seen
        assert math.isclose(sum(lm.prob(w, 3) for w in range(4)), 1.0)


def test_k_zero_is_mle():
    lm = ngram.BigramLM(CORPUS, vocab_size=4, k=0)
    assert lm.prob(1, 0) == 2 / 2 and lm.prob(2, 1) == 2 / 2 and lm.prob(0, 2) == 1 / 3
    with pytest.raises(ZeroDivisionError, match="never seen"):
        lm.prob(0, 3)
    with pytest.raises(ValueError):
        ngram.BigramLM(CORPUS, 4, k=-1)


def test_perplexity_bounds():
    uniform = ngram.BigramLM([], vocab_size=4, k=1.0)
    assert math.isclose(uniform.perplexity(CORPUS), 4.0)  # no counts: uniform over V
    lm = ngram.BigramLM(CORPUS, vocab_size=4, k=0.1)
    assert 1.0 < lm.perplexity(CORPUS) < 4.0
