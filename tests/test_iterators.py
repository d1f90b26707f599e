import random

import pytest
import torch

from course_utils import iterators, reference

TOY = list(range(35))


def batches(fn, corpus=TOY, batch_size=2, num_steps=5, seed=0):
    return list(fn(corpus, batch_size, num_steps, random.Random(seed)))


@pytest.mark.parametrize("fn", [iterators.seq_data_iter_random, iterators.seq_data_iter_sequential])
def test_shapes_and_shift(fn):
    out = batches(fn)
    assert out
    for X, Y in out:
        assert X.shape == Y.shape == (2, 5)
        assert torch.equal(Y, X + 1)  # on 0..34 the label is the next number


def test_random_subsequences_do_not_overlap():
    for seed in range(20):
        starts = [int(x[0]) for X, _ in batches(iterators.seq_data_iter_random, seed=seed) for x in X]
        spans = sorted(starts)
        assert all(b - a >= 5 for a, b in zip(spans, spans[1:]))


def test_sequential_minibatches_continue_each_other_and_cover_once():
    for seed in range(20):
        out = batches(iterators.seq_data_iter_sequential, list(range(100)), seed=seed)
        for (X1, _), (X2, _) in zip(out, out[1:]):
            assert torch.equal(X2[:, 0], X1[:, -1] + 1)
        seen = torch.cat([X.reshape(-1) for X, _ in out]).tolist()
        assert len(seen) == len(set(seen))


def test_same_seed_same_batches():
    for fn in (iterators.seq_data_iter_random, iterators.seq_data_iter_sequential):
        a, b = batches(fn, seed=3), batches(fn, seed=3)
        assert all(torch.equal(x, y) for (x, _), (y, _) in zip(a, b))


@pytest.mark.parametrize("name", ["seq_data_iter_random", "seq_data_iter_sequential"])
def test_match_d2l_on_the_same_seed(name, tm_corpus):
    d2l = reference.import_d2l()
    corpus = tm_corpus[0][:5000]
    random.seed(11)
    ref = list(getattr(d2l, name)(corpus, 32, 35))
    random.seed(11)
    ours = list(getattr(iterators, name)(corpus, 32, 35))
    assert len(ours) == len(ref) > 0
    for (X, Y), (RX, RY) in zip(ours, ref):
        assert torch.equal(X, RX) and torch.equal(Y, RY)


def test_bad_arguments_are_clear_errors():
    for fn in (iterators.seq_data_iter_random, iterators.seq_data_iter_sequential):
        with pytest.raises(ValueError, match="num_steps=35 needs a corpus longer"):
            list(fn(TOY, 2, 35))
        with pytest.raises(ValueError, match="batch_size"):
            list(fn(TOY, 0, 5))
    with pytest.raises(ValueError, match="num_steps"):
        iterators.SeqDataLoader(TOY, 2, 100)


def test_loader_is_reiterable_and_load_data():
    loader, vocab = iterators.load_data("time_machine", 4, 10, max_tokens=1000)
    assert len(vocab) == 28
    first, second = list(loader), list(loader)
    assert len(first) > 0 and len(second) > 0
    rand_loader, lyr_vocab = iterators.load_data("jay_lyrics", 4, 10, True, max_tokens=2000)
    assert rand_loader.use_random_iter and len(lyr_vocab) > 100
    with pytest.raises(KeyError, match="unknown corpus"):
        iterators.load_data("wiki", 4, 10)
