import collections
import math
import random

import numpy as np
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


def test_perplexity_of_an_unseen_pair_under_the_mle_is_infinite():
    lm = ngram.BigramLM(CORPUS, vocab_size=4, k=0)
    assert math.isfinite(lm.perplexity([0, 1, 2]))
    assert lm.perplexity([0, 1, 0]) == math.inf  # (1, 0) never follows in CORPUS
    with pytest.raises(ValueError, match="at least 2 tokens"):
        lm.perplexity([0])


def test_add_k_matches_the_formula():
    lm = ngram.BigramLM(CORPUS, vocab_size=4, k=0.5)
    # context 2 is followed by 1, 2 and 0 once each: c(2, .) = 3
    assert math.isclose(lm.prob(2, 2), (1 + 0.5) / (3 + 0.5 * 4))
    assert math.isclose(lm.prob(3, 2), 0.5 / (3 + 0.5 * 4))
    with pytest.raises(ValueError, match="vocab_size"):
        ngram.BigramLM(CORPUS, vocab_size=0)


def test_zipf_exponent_recovers_a_power_law():
    ranks = np.arange(1, 501)
    alpha, c = ngram.zipf_exponent(1000.0 * ranks ** -1.3)
    assert math.isclose(alpha, 1.3) and math.isclose(c, math.log(1000.0))
    # A window that skips a bent head recovers the slope of the rest.
    counts = np.concatenate([[5e5, 4e5], 1000.0 * ranks[2:] ** -0.8])
    assert ngram.zipf_exponent(counts)[0] > 0.9
    assert math.isclose(ngram.zipf_exponent(counts, min_rank=3)[0], 0.8)
    assert math.isclose(ngram.zipf_exponent(counts, 3, 10_000)[0], 0.8)  # max_rank is capped


def test_zipf_exponent_rejects_bad_input():
    with pytest.raises(ValueError, match="sorted"):
        ngram.zipf_exponent([1, 5, 3])
    with pytest.raises(ValueError, match="positive"):
        ngram.zipf_exponent([5, 3, 0])
    with pytest.raises(ValueError, match="two ranks"):
        ngram.zipf_exponent([5, 3, 1], min_rank=3)


def test_select_k_uses_the_validation_text():
    train = [0, 1] * 50
    # Validation text that repeats the training pattern wants little smoothing ...
    k, scores = ngram.select_k(train, [0, 1, 0, 1, 0, 1], 4, [0.01, 1.0, 10.0])
    assert k == 0.01 and scores[0.01] < scores[1.0] < scores[10.0]
    # ... and one with pairs never seen in training wants more (k=0 would be infinite).
    k, scores = ngram.select_k(train, [0, 2, 3, 1, 1, 0], 4, [0.0, 0.01, 1.0])
    assert k == 1.0 and scores[0.0] == math.inf
    with pytest.raises(ValueError, match="empty"):
        ngram.select_k(train, train, 4, [])


def test_with_k_shares_counts_and_changes_only_k():
    lm = ngram.BigramLM(CORPUS, vocab_size=4, k=1.0)
    other = lm.with_k(0.5)
    assert other.k == 0.5 and lm.k == 1.0 and other.pair_counts is lm.pair_counts
    fresh = ngram.BigramLM(CORPUS, vocab_size=4, k=0.5)
    assert all(math.isclose(other.prob(w, v), fresh.prob(w, v)) for v in range(4) for w in range(4))
    with pytest.raises(ValueError):
        lm.with_k(-0.1)


@pytest.mark.parametrize("k", [0.0, 0.5, 3.0])
def test_unigram_probabilities_sum_to_one_and_match_the_formula(k):
    lm = ngram.UnigramLM(CORPUS, vocab_size=4, k=k)
    assert math.isclose(sum(lm.prob(w) for w in range(4)), 1.0)
    assert math.isclose(lm.prob(2), (3 + k) / (len(CORPUS) + 4 * k))  # 2 occurs 3 times
    assert lm.prob(1, v=0) == lm.prob(1, v=2)  # the context is ignored


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_interpolation_is_a_distribution_and_falls_back_to_the_unigram(lam):
    bigram = ngram.BigramLM(CORPUS, 4, k=0)
    unigram = ngram.UnigramLM(CORPUS, 4, k=1.0)
    lm = ngram.InterpolatedLM(bigram, unigram, lam)
    for v in range(4):
        assert math.isclose(sum(lm.prob(w, v) for w in range(4)), 1.0)
    assert lm.prob(1, 3) == unigram.prob(1)  # context 3 never seen: the unigram alone
    assert math.isclose(lm.prob(1, 0), lam * 1.0 + (1 - lam) * unigram.prob(1))
    with pytest.raises(ValueError, match="lam must be in"):
        ngram.InterpolatedLM(bigram, unigram, 1.5)


def test_uniform_perplexity_is_the_vocabulary_size():
    assert math.isclose(ngram.UniformLM(7).perplexity([0, 1, 2, 3]), 7.0)


def test_fit_baselines_chooses_on_validation_and_the_interpolation_wins_on_mixed_text():
    train = [0, 1, 2, 3] * 30 + [4, 4, 5]
    # seen pairs, and pairs of frequent tokens never seen together (add-k gives them ~k/V)
    valid = [0, 1, 2, 3, 0, 2, 1, 3, 1, 2, 3, 0] * 3
    fitted = ngram.fit_baselines(train, valid, 8, ks=[0.01, 0.1, 1.0], lams=[0.1, 0.5, 0.9])
    assert set(fitted) == {"uniform", "unigram", "bigram", "interpolated"}
    for name, (lm, chosen, valid_ppl) in fitted.items():
        assert math.isclose(lm.perplexity(valid), valid_ppl)
    _, chosen, _ = fitted["interpolated"]
    scores = {name: v for name, (_, _, v) in fitted.items()}
    # every chosen setting is the best of its grid on the validation text
    for lam in (0.1, 0.5, 0.9):
        for k in (0.01, 0.1, 1.0):
            other = ngram.InterpolatedLM(ngram.BigramLM(train, 8, k=0),
                                         ngram.UnigramLM(train, 8, k), lam)
            assert other.perplexity(valid) >= scores["interpolated"] - 1e-12
    assert scores["interpolated"] < min(scores["bigram"], scores["unigram"]) < scores["uniform"]
    assert chosen["lam"] in (0.1, 0.5, 0.9) and chosen["k"] in (0.01, 0.1, 1.0)


def reference_kneser_ney(train, vocab_size, n, d):
    """Interpolated Kneser-Ney written out another way: recursion over orders with its own tables."""
    raw = collections.Counter(tuple(train[i:i + n]) for i in range(len(train) - n + 1))
    tables = {n: raw}
    for k in range(n - 1, 0, -1):  # continuation counts of the order below
        tables[k] = collections.Counter(g[1:] for g in
                                        collections.Counter(tuple(train[i:i + k + 1])
                                                            for i in range(len(train) - k)))

    def prob(w, ctx, k=n):
        if k == 0:
            return 1 / vocab_size
        h = tuple(ctx[len(ctx) - (k - 1):]) if k > 1 else ()
        lower = prob(w, ctx, k - 1)
        if len(h) < k - 1:
            return lower
        followers = {g: c for g, c in tables[k].items() if g[:-1] == h}
        total = sum(followers.values())
        if total == 0:
            return lower
        return max(followers.get(h + (w,), 0) - d, 0) / total + d * len(followers) / total * lower
    return prob


def test_kneser_ney_sums_to_one_and_matches_a_reference():
    rng = random.Random(0)
    train = [rng.randrange(1, 6) for _ in range(400)] + [1, 2, 3, 4, 5] * 20
    for n in (1, 2, 3, 4):
        lm = ngram.KneserNeyLM(train, 7, n, 0.7)
        ref = reference_kneser_ney(train, 7, n, 0.7)
        for ctx in [(), (1,), (2, 3), (1, 2, 3), (5, 5, 5), (0, 6, 0)]:
            assert sum(lm.prob(w, ctx) for w in range(7)) == pytest.approx(1.0, abs=1e-12)
            for w in range(7):
                assert lm.prob(w, ctx) == pytest.approx(ref(w, ctx), rel=1e-12)
    test = [rng.randrange(1, 6) for _ in range(200)]
    lm = ngram.KneserNeyLM(train, 7, 3, 0.7)
    assert lm.with_discount(0.9).perplexity(test) != lm.perplexity(test)
    chosen, settings, valid, scores = ngram.fit_kneser_ney(train, test, 7, [1, 2, 3], [0.5, 0.9])
    assert valid == min(scores.values()) and (settings["n"], settings["discount"]) in scores


def test_counting_models_can_leave_unknown_targets_out():
    train, valid = [1, 2, 1, 2, 1, 3], [1, 2, 0, 2, 1]
    lm = ngram.BigramLM(train, 4, k=1.0)
    known = [(1, 2), (0, 2), (2, 1)]  # the pair whose target is 0 (<unk>) is left out
    expected = math.exp(-sum(math.log(lm.prob(w, v)) for v, w in known) / 3)
    assert lm.perplexity(valid, ignore_index=0) == pytest.approx(expected)
    with pytest.raises(ValueError, match="nothing to score"):
        lm.perplexity([1, 0, 0], ignore_index=0)
