"""Every public function rejects what it cannot honestly do, before doing any work, with an
error that names the parameter and what is allowed. One row per case."""
import math
import random

import pytest
import torch
from torch import nn

from course_utils import iterators, models, ngram, text, train

CPU = torch.device("cpu")
CHARS = list("abcabcabdabcabcabd" * 10)
VOCAB = text.Vocab(CHARS)


def tiny_net():
    return models.RNNModelScratch(len(VOCAB), 8, device=CPU, get_params=models.get_rnn_params,
                                  init_state=models.init_rnn_state, forward_fn=models.rnn)


def net_with_grads():
    net = nn.Linear(3, 2)
    net(torch.ones(1, 3)).sum().backward()
    return net


class CountingSGD(train.SGD):
    """An updater that fails the test if training starts at all."""

    def step(self):
        raise AssertionError("training started before the bad argument was rejected")


def train_with(**overrides):
    net = tiny_net()
    loader = iterators.SeqDataLoader(VOCAB[CHARS], 2, 5, rng=random.Random(0))
    kwargs = dict(device=CPU, clip_theta=1.0, log=None)
    kwargs.update(overrides)
    num_epochs = kwargs.pop("num_epochs", 2)
    return train.train(net, loader, VOCAB, CountingSGD(net.parameters(), 1.0), num_epochs,
                       **kwargs)


CASES = [
    # (id, call, exception, message that must appear)
    ("clip theta < 0", lambda: train.grad_clipping(net_with_grads(), -1.0), ValueError,
     "theta must be > 0"),
    ("clip theta = 0", lambda: train.grad_clipping(net_with_grads(), 0), ValueError,
     "theta must be > 0"),
    ("clip theta nan", lambda: train.grad_clipping(net_with_grads(), math.nan), ValueError,
     "theta must be a finite number"),
    ("clip theta inf", lambda: train.grad_clipping(net_with_grads(), math.inf), ValueError,
     "theta must be a finite number"),
    ("clip theta str", lambda: train.grad_clipping(net_with_grads(), "1"), TypeError,
     "theta must be a number"),
    ("clip before backward", lambda: train.grad_clipping(nn.Linear(3, 2), 1.0), ValueError,
     "call loss.backward() before grad_clipping"),
    ("train clip_theta < 0", lambda: train_with(clip_theta=-0.01), ValueError,
     "clip_theta must be > 0"),
    ("train unknown prefix", lambda: train_with(prefixes=["ab", "xyz"]), ValueError,
     "prefix 'xyz' has characters outside the vocabulary: ['x', 'y', 'z']"),
    ("train empty prefix", lambda: train_with(prefixes=[""]), ValueError, "the prefix is empty"),
    ("train 0 epochs", lambda: train_with(num_epochs=0), ValueError, "num_epochs must be in >= 1"),
    ("train 2.5 epochs", lambda: train_with(num_epochs=2.5), TypeError,
     "num_epochs must be a positive integer"),
    ("train valid_period 0", lambda: train_with(valid_period=0, valid_corpus=VOCAB[CHARS]),
     ValueError, "valid_period must be in >= 1"),
    ("sgd lr 0", lambda: train.SGD([torch.zeros(1, requires_grad=True)], 0), ValueError,
     "lr must be > 0"),
    ("lyrics 0 chars", lambda: text.load_corpus_jay_lyrics(0), ValueError,
     "max_chars must be in 1..20,000"),
    ("lyrics negative", lambda: text.load_corpus_jay_lyrics(-5), ValueError,
     "max_chars must be in 1..20,000"),
    ("lyrics into the test text", lambda: text.load_corpus_jay_lyrics(20001), ValueError,
     "test and validation text"),
    ("lyrics 10**9", lambda: text.load_corpus_jay_lyrics(10 ** 9), ValueError,
     "max_chars must be in 1..20,000"),
    ("lyrics None", lambda: text.load_corpus_jay_lyrics(None), TypeError,
     "max_chars must be a positive integer"),
    ("lyrics float", lambda: text.read_jay_lyrics(100.0), TypeError,
     "max_chars must be a positive integer"),
    ("load_data lyrics too long", lambda: iterators.load_data("jay_lyrics", 2, 5, max_tokens=30000),
     ValueError, "max_chars must be in 1..20,000"),
    ("time machine 0 tokens", lambda: text.load_corpus_time_machine(0), ValueError,
     "max_tokens must be in >= 1"),
    ("to_tokens -1", lambda: VOCAB.to_tokens(-1), ValueError, "index -1 is out of range 0..4"),
    ("to_tokens too big", lambda: VOCAB.to_tokens([1, 5]), ValueError, "index 5 is out of range"),
    ("to_tokens float", lambda: VOCAB.to_tokens(1.5), TypeError, "integer indices"),
    ("reserved <unk>", lambda: text.Vocab(CHARS, reserved_tokens=["<pad>", "<unk>"]), ValueError,
     "reserved_tokens must not contain '<unk>'"),
    ("reserved twice", lambda: text.Vocab(CHARS, reserved_tokens=["<pad>", "<pad>"]), ValueError,
     "lists ['<pad>'] more than once"),
    ("loader float batch", lambda: iterators.SeqDataLoader(VOCAB[CHARS], 2.0, 5), TypeError,
     "batch_size must be a positive integer, got 2.0"),
    ("loader bool steps", lambda: iterators.SeqDataLoader(VOCAB[CHARS], 2, True), TypeError,
     "num_steps must be a positive integer"),
    ("params float hiddens", lambda: models.get_rnn_params(10, 2.5, CPU), TypeError,
     "num_hiddens must be a positive integer, got 2.5"),
    ("gru params 0 vocab", lambda: models.get_gru_params(0, 4, CPU), ValueError,
     "vocab_size must be in >= 1"),
    ("evaluate num_steps 0", lambda: train.evaluate_perplexity(tiny_net(), VOCAB[CHARS], device=CPU,
                                                                num_steps=0),
     ValueError, "num_steps must be in >= 1"),
    ("predict temperature nan", lambda: train.predict("ab", 3, tiny_net(), VOCAB, device=CPU,
                                                     temperature=math.nan),
     ValueError, "temperature must be a finite number"),
    ("predict temperature < 0", lambda: train.predict("ab", 3, tiny_net(), VOCAB, device=CPU,
                                                     temperature=-1),
     ValueError, "temperature must be >= 0"),
    ("predict float length", lambda: train.predict("ab", 2.0, tiny_net(), VOCAB, device=CPU),
     TypeError, "num_preds must be an integer >= 0"),
    ("empty history", lambda: train.History().summary(), ValueError, "no epochs yet"),
    ("bigram k < 0", lambda: ngram.BigramLM(CHARS, 4, k=-1), ValueError, "k must be >= 0"),
    ("unigram k nan", lambda: ngram.UnigramLM(CHARS, 4, k=math.nan), ValueError,
     "k must be a finite number"),
    ("ngrams n 0", lambda: ngram.ngrams(CHARS, 0), ValueError, "n must be in >= 1"),
]


@pytest.mark.parametrize("call,error,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_clearly(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)


def test_good_inputs_next_to_the_bad_ones_still_work():
    assert VOCAB.to_tokens(0) == "<unk>" and VOCAB.to_tokens(torch.tensor(1)) == VOCAB.idx_to_token[1]
    assert len(text.load_corpus_jay_lyrics(20000)[0]) == 20000
    net = net_with_grads()
    assert float(train.grad_clipping(net, 1e-3)) > 1e-3
