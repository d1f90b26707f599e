"""Minibatches of (X, Y) from one long sequence; Y is X shifted by one token.

Both iterators draw their randomness from `rng` (default: Python's global `random`),
so with random.seed(s) they give the same batches as d2l's iterators with the same seed.
"""
import random

import torch


def _check(corpus, batch_size, num_steps):
    if batch_size < 1 or num_steps < 1:
        raise ValueError(f"batch_size and num_steps must be >= 1, got {batch_size} and {num_steps}")
    if num_steps >= len(corpus):
        raise ValueError(f"num_steps={num_steps} needs a corpus longer than {num_steps} tokens; "
                         f"this one has {len(corpus)}. Use a smaller num_steps or more text.")
    # Shortest corpus that still gives one full minibatch after the largest random offset
    # (num_steps - 1 for random sampling, num_steps for sequential partitioning); a shorter
    # one would silently give an empty epoch.
    needed = batch_size * num_steps + num_steps + 1
    if len(corpus) < needed:
        raise ValueError(f"a corpus of {len(corpus)} tokens is too short for one minibatch of "
                         f"batch_size={batch_size} x num_steps={num_steps} after a random offset "
                         f"(needs at least {needed} tokens); use a smaller batch_size or num_steps.")


def seq_data_iter_random(corpus, batch_size, num_steps, rng=random):
    """Random sampling: non-overlapping subsequences in random order.
    Neighbouring minibatches are unrelated, so the hidden state is reset for each."""
    _check(corpus, batch_size, num_steps)
    corpus = corpus[rng.randint(0, num_steps - 1):]  # random start: every epoch cuts differently
    num_subseqs = (len(corpus) - 1) // num_steps  # -1: the last subsequence needs a label
    starts = list(range(0, num_subseqs * num_steps, num_steps))
    rng.shuffle(starts)
    for i in range(0, (num_subseqs // batch_size) * batch_size, batch_size):
        batch = starts[i:i + batch_size]
        X = torch.tensor([corpus[s:s + num_steps] for s in batch])
        Y = torch.tensor([corpus[s + 1:s + 1 + num_steps] for s in batch])
        yield X, Y


def seq_data_iter_sequential(corpus, batch_size, num_steps, rng=random):
    """Sequential partitioning: row i of a minibatch continues row i of the previous one,
    so the hidden state can be carried across minibatches (detached from the graph)."""
    _check(corpus, batch_size, num_steps)
    offset = rng.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset:offset + num_tokens]).reshape(batch_size, -1)
    Ys = torch.tensor(corpus[offset + 1:offset + 1 + num_tokens]).reshape(batch_size, -1)
    for i in range(0, (Xs.shape[1] // num_steps) * num_steps, num_steps):
        yield Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]


class SeqDataLoader:
    """Re-iterable loader: each `for` over it is one epoch with fresh random cuts."""

    def __init__(self, corpus, batch_size, num_steps, use_random_iter=False, rng=random):
        _check(corpus, batch_size, num_steps)
        self.corpus, self.batch_size, self.num_steps = corpus, batch_size, num_steps
        self.use_random_iter, self.rng = use_random_iter, rng
        self.iter_fn = seq_data_iter_random if use_random_iter else seq_data_iter_sequential

    def __iter__(self):
        return self.iter_fn(self.corpus, self.batch_size, self.num_steps, self.rng)


def load_data(name, batch_size, num_steps, use_random_iter=False, max_tokens=None):
    """(loader, vocab) for 'time_machine' (characters) or 'jay_lyrics' (first max_tokens chars)."""
    from . import text
    if name == "time_machine":
        corpus, vocab = text.load_corpus_time_machine(max_tokens or -1)
    elif name == "jay_lyrics":
        corpus, vocab = text.load_corpus_jay_lyrics(max_tokens)
    else:
        raise KeyError(f"unknown corpus {name!r}; use 'time_machine' or 'jay_lyrics'")
    return SeqDataLoader(corpus, batch_size, num_steps, use_random_iter), vocab
