import random

import pytest
import torch

from course_utils import iterators
from tools import reference

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
        with pytest.raises(ValueError, match="too short for one minibatch"):
            list(fn(TOY, 2, 35))
        with pytest.raises(ValueError, match="batch_size must be in >= 1"):
            list(fn(TOY, 0, 5))
        with pytest.raises(TypeError, match="num_steps must be a positive integer, got 2.5"):
            list(fn(TOY, 2, 2.5))
    with pytest.raises(ValueError, match="too short"):
        iterators.SeqDataLoader(TOY, 2, 100)


def test_loader_is_reiterable_and_load_data():
    loader, vocab = iterators.load_data("time_machine", 4, 10, max_tokens=1000)
    assert len(vocab) == 28 and not loader.use_random_iter
    first, second = list(loader), list(loader)
    assert len(first) > 0 and len(second) > 0
    rand_loader, lyr_vocab = iterators.load_data("jay_lyrics", 4, 10, use_random_iter=True,
                                                 max_tokens=2000)
    assert rand_loader.use_random_iter and len(rand_loader.corpus) == 2000
    _, default_vocab = iterators.load_data("jay_lyrics", 4, 10)
    assert len(default_vocab) == 1028  # the first 10,000 characters, never the test text
    with pytest.raises(ValueError, match="unknown corpus"):
        iterators.load_data("wiki", 4, 10)


class _Largest:
    """A stand-in for `random` that always takes the largest offset and never shuffles."""

    def randint(self, a, b):
        return b

    def shuffle(self, items):
        pass


@pytest.mark.parametrize("fn", [iterators.seq_data_iter_random, iterators.seq_data_iter_sequential])
@pytest.mark.parametrize("batch_size,num_steps", [(2, 5), (3, 4), (1, 7)])
def test_shortest_allowed_corpus_gives_a_minibatch(fn, batch_size, num_steps):
    needed = batch_size * num_steps + num_steps + 1
    # Long enough: even the largest random offset leaves one full minibatch.
    assert len(list(fn(list(range(needed)), batch_size, num_steps, _Largest()))) >= 1
    with pytest.raises(ValueError, match="too short for one minibatch"):
        list(fn(list(range(needed - 1)), batch_size, num_steps))


@pytest.mark.parametrize("fn", [iterators.seq_data_iter_random, iterators.seq_data_iter_sequential])
def test_rows_are_slices_of_real_text_and_labels_the_next_token(fn, tm_corpus):
    corpus = tm_corpus[0][:3000]
    text = "".join(map(chr, corpus))  # find each row by substring search
    for X, Y in fn(corpus, 8, 20, random.Random(5)):
        assert torch.equal(Y[:, :-1], X[:, 1:])
        for x, y in zip(X.tolist(), Y.tolist()):
            # the row and its last label form 21 consecutive tokens of the corpus
            assert "".join(map(chr, x + y[-1:])) in text


def test_each_epoch_of_a_loader_cuts_differently():
    loader = iterators.SeqDataLoader(list(range(200)), 2, 5, use_random_iter=False,
                                     rng=random.Random(1))
    firsts = {int(next(iter(loader))[0][0, 0]) for _ in range(10)}
    assert len(firsts) > 1  # the random offset changes from epoch to epoch


def first_edition_random(corpus, batch_size, num_steps, rng):
    """The first edition's data_iter_random (d2lzh), written out: no offset."""
    num_examples = (len(corpus) - 1) // num_steps
    order = list(range(num_examples))
    rng.shuffle(order)
    for i in range(num_examples // batch_size):
        rows = order[i * batch_size:(i + 1) * batch_size]
        yield (torch.tensor([corpus[j * num_steps:(j + 1) * num_steps] for j in rows]),
               torch.tensor([corpus[j * num_steps + 1:(j + 1) * num_steps + 1] for j in rows]))


def test_without_random_offset_the_cut_is_the_first_editions(tm_corpus):
    corpus = tm_corpus[0][:3000]
    ours = list(iterators.seq_data_iter_random(corpus, 8, 35, random.Random(5), random_offset=False))
    ref = list(first_edition_random(corpus, 8, 35, random.Random(5)))
    assert len(ours) == len(ref) > 0
    assert all(torch.equal(X, RX) and torch.equal(Y, RY) for (X, Y), (RX, RY) in zip(ours, ref))
    # sequential: every epoch starts at token 0, rows are consecutive slices of equal length
    loader = iterators.SeqDataLoader(TOY * 3, 2, 5, random_offset=False, rng=random.Random(0))
    epochs = [[X for X, _ in loader] for _ in range(3)]
    assert all(torch.equal(a, b) for a, b in zip(epochs[0], epochs[2]))
    assert epochs[0][0][0, 0] == 0 and epochs[0][0][1, 0] == TOY[(3 * 35 - 1) // 2 % 35]
