"""Every public function rejects what it cannot honestly do, before doing any work, with an
error that names the parameter and what is allowed. One row per case; each id starts with its
group: `checked` (rejected since the first round), `silent` (was accepted and did something
else), `late` (train() found it only after training epochs), `unclear` (a raw error that named
nothing)."""
import math
import random

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import config, exercises, iterators, memory_task, models, ngram, text, train

CPU = torch.device("cpu")
CHARS = list("abcabcabdabcabcabd" * 10)
VOCAB = text.Vocab(CHARS)


def tiny_net(vocab_size=len(VOCAB)):
    return models.RNNModelScratch(vocab_size, 8, device=CPU, get_params=models.get_rnn_params,
                                  init_state=models.init_rnn_state, forward_fn=models.rnn)


def net_with_grads():
    net = nn.Linear(3, 2)
    net(torch.ones(1, 3)).sum().backward()
    return net


class CountingSGD(train.SGD):
    """An updater that fails the test if training starts at all."""

    def step(self):
        raise AssertionError("training started before the bad argument was rejected")


class EmptyLoader:
    """A loader that says how it samples but gives no minibatches."""
    use_random_iter = False

    def __iter__(self):
        return iter(())


class OnePass:
    """A one-pass iterator dressed as a loader: empty from the second epoch on."""
    use_random_iter = False

    def __init__(self, loader):
        self.batches = iter(loader)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.batches)


def loader_over(ids):
    return iterators.SeqDataLoader(ids, 2, 5, rng=random.Random(0))


def train_with(**overrides):
    net = overrides.pop("net") if "net" in overrides else tiny_net()
    updater = overrides.pop("updater") if "updater" in overrides else CountingSGD(
        net.parameters(), 1.0)
    train_iter = overrides.pop("train_iter") if "train_iter" in overrides else loader_over(
        VOCAB[CHARS])
    kwargs = dict(device=CPU, clip_theta=1.0, log=None)
    kwargs.update(overrides)
    num_epochs = kwargs.pop("num_epochs", 2)
    return train.train(net, train_iter, VOCAB, updater, num_epochs, **kwargs)


RUNS = exercises.LyricsRuns(max_chars=2000, batch_size=8, num_steps=10, num_hiddens=8, device=CPU)
SCRATCH_RNN = RUNS.scratch(models.get_rnn_params, models.init_rnn_state, models.rnn)
TYPES_28 = list(range(28)) * 3  # a text with 28 distinct token ids


CASES = [
    # (id, call, exception, message that must appear)
    ("checked: clip theta < 0", lambda: train.grad_clipping(net_with_grads(), -1.0), ValueError,
     "theta must be > 0"),
    ("checked: clip theta = 0", lambda: train.grad_clipping(net_with_grads(), 0), ValueError,
     "theta must be > 0"),
    ("checked: clip theta nan", lambda: train.grad_clipping(net_with_grads(), math.nan), ValueError,
     "theta must be a finite number"),
    ("checked: clip theta inf", lambda: train.grad_clipping(net_with_grads(), math.inf), ValueError,
     "theta must be a finite number"),
    ("checked: clip theta str", lambda: train.grad_clipping(net_with_grads(), "1"), TypeError,
     "theta must be a number"),
    ("checked: clip before backward", lambda: train.grad_clipping(nn.Linear(3, 2), 1.0), ValueError,
     "call loss.backward() before grad_clipping"),
    ("checked: train clip_theta < 0", lambda: train_with(clip_theta=-0.01), ValueError,
     "clip_theta must be > 0"),
    ("checked: train unknown prefix", lambda: train_with(prefixes=["ab", "xyz"]), ValueError,
     "prefix 'xyz' has characters outside the vocabulary: ['x', 'y', 'z']"),
    ("checked: train empty prefix", lambda: train_with(prefixes=[""]), ValueError, "the prefix is empty"),
    ("checked: train 0 epochs", lambda: train_with(num_epochs=0), ValueError, "num_epochs must be in >= 1"),
    ("checked: train 2.5 epochs", lambda: train_with(num_epochs=2.5), TypeError,
     "num_epochs must be a positive integer"),
    ("checked: train valid_period 0", lambda: train_with(valid_period=0, valid_corpus=VOCAB[CHARS]),
     ValueError, "valid_period must be in >= 1"),
    ("checked: sgd lr 0", lambda: train.SGD([torch.zeros(1, requires_grad=True)], 0), ValueError,
     "lr must be > 0"),
    ("checked: lyrics 0 chars", lambda: text.load_corpus_jay_lyrics(0), ValueError,
     "max_chars must be in 1..20,000"),
    ("checked: lyrics negative", lambda: text.load_corpus_jay_lyrics(-5), ValueError,
     "max_chars must be in 1..20,000"),
    ("checked: lyrics into the test text", lambda: text.load_corpus_jay_lyrics(20001), ValueError,
     "test and validation text"),
    ("checked: lyrics 10**9", lambda: text.load_corpus_jay_lyrics(10 ** 9), ValueError,
     "max_chars must be in 1..20,000"),
    ("checked: lyrics None", lambda: text.load_corpus_jay_lyrics(None), TypeError,
     "max_chars must be a positive integer"),
    ("checked: lyrics float", lambda: text.read_jay_lyrics(100.0), TypeError,
     "max_chars must be a positive integer"),
    ("checked: load_data lyrics too long", lambda: iterators.load_data("jay_lyrics", 2, 5, max_tokens=30000),
     ValueError, "max_chars must be in 1..20,000"),
    ("checked: time machine 0 tokens", lambda: text.load_corpus_time_machine(0), ValueError,
     "max_tokens must be in >= 1"),
    ("checked: to_tokens -1", lambda: VOCAB.to_tokens(-1), ValueError, "index -1 is out of range 0..4"),
    ("checked: to_tokens too big", lambda: VOCAB.to_tokens([1, 5]), ValueError, "index 5 is out of range"),
    ("checked: to_tokens float", lambda: VOCAB.to_tokens(1.5), TypeError, "integer indices"),
    ("checked: reserved <unk>", lambda: text.Vocab(CHARS, reserved_tokens=["<pad>", "<unk>"]), ValueError,
     "reserved_tokens must not contain '<unk>'"),
    ("checked: reserved twice", lambda: text.Vocab(CHARS, reserved_tokens=["<pad>", "<pad>"]), ValueError,
     "lists ['<pad>'] more than once"),
    ("checked: loader float batch", lambda: iterators.SeqDataLoader(VOCAB[CHARS], 2.0, 5), TypeError,
     "batch_size must be a positive integer, got 2.0"),
    ("checked: loader bool steps", lambda: iterators.SeqDataLoader(VOCAB[CHARS], 2, True), TypeError,
     "num_steps must be a positive integer"),
    ("checked: params float hiddens", lambda: models.get_rnn_params(10, 2.5, CPU), TypeError,
     "num_hiddens must be a positive integer, got 2.5"),
    ("checked: gru params 0 vocab", lambda: models.get_gru_params(0, 4, CPU), ValueError,
     "vocab_size must be in >= 1"),
    ("checked: evaluate num_steps 0", lambda: train.evaluate_perplexity(tiny_net(), VOCAB[CHARS], device=CPU,
                                                                num_steps=0),
     ValueError, "num_steps must be in >= 1"),
    ("checked: predict temperature nan", lambda: train.predict("ab", 3, tiny_net(), VOCAB, device=CPU,
                                                     temperature=math.nan),
     ValueError, "temperature must be a finite number"),
    ("checked: predict temperature < 0", lambda: train.predict("ab", 3, tiny_net(), VOCAB, device=CPU,
                                                     temperature=-1),
     ValueError, "temperature must be >= 0"),
    ("checked: predict float length", lambda: train.predict("ab", 2.0, tiny_net(), VOCAB, device=CPU),
     TypeError, "num_preds must be an integer >= 0"),
    ("checked: empty history", lambda: train.History().summary(), ValueError, "no epochs yet"),
    ("checked: bigram k < 0", lambda: ngram.BigramLM(CHARS, 4, k=-1), ValueError, "k must be >= 0"),
    ("checked: unigram k nan", lambda: ngram.UnigramLM(CHARS, 4, k=math.nan), ValueError,
     "k must be a finite number"),
    ("checked: ngrams n 0", lambda: ngram.ngrams(CHARS, 0), ValueError, "n must be in >= 1"),

    # --- silently accepted before: now a clear error
    ("silent: Vocab min_freq nan", lambda: text.Vocab(CHARS, min_freq=math.nan), ValueError,
     "min_freq must be a finite number"),
    ("silent: Vocab min_freq str", lambda: text.Vocab(CHARS, min_freq="2"), TypeError,
     "min_freq must be a number"),
    ("silent: reserved_tokens a string", lambda: text.Vocab(CHARS, reserved_tokens="<pad>"),
     TypeError, "reserved_tokens must be a list of tokens such as ['<pad>']"),
    ("silent: whole_file 'no'", lambda: text.read_jay_lyrics(whole_file="no"), TypeError,
     "whole_file must be True or False, got 'no'"),
    ("silent: use_random_iter 'no'",
     lambda: iterators.SeqDataLoader(VOCAB[CHARS], 2, 5, use_random_iter="no"), TypeError,
     "use_random_iter must be True or False, got 'no'"),
    ("silent: load_data use_random_iter 1",
     lambda: iterators.load_data("jay_lyrics", 2, 5, use_random_iter=1), TypeError,
     "use_random_iter must be True or False"),
    ("silent: train prefixes a string", lambda: train_with(prefixes="abc"), TypeError,
     "prefixes must be a list of prefixes such as ['分开'], got 'abc'"),
    ("silent: nn.RNN batch_first", lambda: models.RNNModel(nn.RNN(5, 4, batch_first=True), 5),
     ValueError, "batch_first=True"),
    ("silent: nn.GRU batch_first", lambda: models.RNNModel(nn.GRU(5, 4, batch_first=True), 5),
     ValueError, "batch_first=True"),
    ("silent: nn.LSTM batch_first", lambda: models.RNNModel(nn.LSTM(5, 4, batch_first=True), 5),
     ValueError, "batch_first=True"),
    ("silent: Adam over another net", lambda: train_with(
        updater=torch.optim.Adam(tiny_net().parameters())), ValueError,
     "the updater holds none of the net's parameters"),
    ("silent: SGD over another net", lambda: train_with(
        updater=CountingSGD(tiny_net().parameters(), 1.0)), ValueError,
     "the updater holds none of the net's parameters"),
    ("silent: updater with a foreign tensor", lambda: (lambda net: train_with(
        net=net, updater=CountingSGD([*net.parameters(), torch.zeros(3, requires_grad=True)], 1.0)
    ))(tiny_net()), ValueError, "the updater holds tensors that are not the net's parameters"),
    ("silent: exercises lyrics chars=0", lambda: RUNS.lyrics(chars=0), ValueError,
     "chars must be in 1..20,000"),
    ("silent: exercises fit chars=0", lambda: RUNS.fit(SCRATCH_RNN, exercises.sgd(1.0), 1, 1.0,
                                                       chars=0), ValueError,
     "chars must be in 1..20,000"),
    ("silent: exercises fit steps=0", lambda: RUNS.fit(SCRATCH_RNN, exercises.sgd(1.0), 1, 1.0,
                                                       steps=0), ValueError,
     "steps must be in >= 1"),
    ("silent: exercises scratch num_hiddens=0", lambda: RUNS.scratch(
        models.get_rnn_params, models.init_rnn_state, models.rnn, num_hiddens=0), ValueError,
     "num_hiddens must be in >= 1"),
    ("silent: UniformLM scored on more types", lambda: ngram.UniformLM(10).perplexity(TYPES_28),
     ValueError, "the text has 28 distinct tokens but vocab_size=10"),
    ("silent: UnigramLM scored on more types",
     lambda: ngram.UnigramLM(TYPES_28[:20], 28).perplexity(TYPES_28 + [99]), ValueError,
     "the text has 29 distinct tokens but vocab_size=28"),
    ("silent: BigramLM counts more types", lambda: ngram.BigramLM(TYPES_28, 10), ValueError,
     "the text has 28 distinct tokens but vocab_size=10"),
    ("silent: UnigramLM counts more types", lambda: ngram.UnigramLM(iter(TYPES_28), 27),
     ValueError, "the text has 28 distinct tokens but vocab_size=27"),
    ("silent: zipf nan", lambda: ngram.zipf_exponent([9.0, 4.0, math.nan, 1.0]), ValueError,
     "counts must be finite"),
    ("silent: zipf inf", lambda: ngram.zipf_exponent([math.inf, 4.0, 2.0, 1.0]), ValueError,
     "counts must be finite"),
    ("silent: zipf float rank", lambda: ngram.zipf_exponent([9, 4, 2, 1], min_rank=1.5),
     TypeError, "min_rank must be a positive integer"),
    ("silent: train_delay batch_size 0",
     lambda: memory_task.train_delay(nn.RNN, seed=0, delay=3, num_updates=1, batch_size=0),
     ValueError, "batch_size must be in >= 1"),
    ("silent: train_delay negative delay",
     lambda: memory_task.train_delay(nn.RNN, seed=0, delay=-1, num_updates=1), ValueError,
     "delay must be >= 0"),
    ("silent: train_delay negative updates",
     lambda: memory_task.train_delay(nn.RNN, seed=0, delay=3, num_updates=-1), ValueError,
     "num_updates must be >= 0"),
    ("silent: train_delay lr 0",
     lambda: memory_task.train_delay(nn.RNN, seed=0, delay=3, num_updates=1, lr=0), ValueError,
     "lr must be > 0"),
    # --- train() found these only after training epochs: now before the first step
    ("late: pred_len -1", lambda: train_with(pred_len=-1), ValueError, "pred_len must be >= 0"),
    ("late: pred_len 2.5", lambda: train_with(pred_len=2.5), TypeError,
     "pred_len must be an integer >= 0"),
    ("late: valid_corpus of 1 token", lambda: train_with(valid_corpus=[1]), ValueError,
     "valid_corpus needs at least 2 tokens, got 1"),
    ("late: valid_corpus id out of range", lambda: train_with(valid_corpus=[0, 1, 99]),
     ValueError, "valid_corpus holds token id 99, outside 0..4 (len(vocab) = 5)"),
    ("late: valid_corpus negative id", lambda: train_with(valid_corpus=[0, -1, 2]), ValueError,
     "valid_corpus holds token id -1"),
    ("late: valid_corpus a text", lambda: train_with(valid_corpus="abcab"), TypeError,
     "valid_corpus must be a list of token ids"),
    ("late: valid_corpus floats", lambda: train_with(valid_corpus=[0.0, 1.0]), TypeError,
     "valid_corpus must hold integer token ids"),
    ("late: ignore_index out of range",
     lambda: train_with(valid_corpus=VOCAB[CHARS[:20]], ignore_index=99), ValueError,
     "ignore_index: index 99 is out of range 0..4"),
    ("late: ignore_index a token", lambda: train_with(valid_corpus=VOCAB[CHARS[:20]],
                                                      ignore_index="<unk>"), TypeError,
     "ignore_index must hold integer indices"),
    ("late: ignore_index every target", lambda: train_with(valid_corpus=[1, 2, 2, 2],
                                                           ignore_index=2), ValueError,
     "every target of valid_corpus equals ignore_index=2"),
    ("late: log not callable", lambda: train_with(log="print"), TypeError,
     "log must be a function such as print, or None"),
    ("late: progress 'yes'", lambda: train_with(progress="yes"), TypeError,
     "progress must be True or False"),
    ("late: prefixes None", lambda: train_with(prefixes=None), TypeError,
     "prefixes must be a list of prefixes"),
    ("late: updater without step", lambda: train_with(updater=object()), TypeError,
     "updater must have step() and zero_grad()"),
    ("late: one-pass iterator over 2 epochs",
     lambda: train_with(train_iter=OnePass(loader_over(VOCAB[CHARS]))), TypeError,
     "train_iter is a one-pass iterator"),
    ("late: device name misspelt", lambda: train_with(device="gpu"), ValueError,
     "device='gpu' is not a torch device"),
    # --- raw errors that named nothing: now the parameter and the fix
    ("unclear: train net for fewer tokens", lambda: train_with(net=tiny_net(3)), ValueError,
     "the net was built for vocab_size=3 tokens but the vocabulary has 5"),
    ("unclear: predict net for fewer tokens",
     lambda: train.predict("ab", 3, tiny_net(3), VOCAB, device=CPU), ValueError,
     "the net was built for vocab_size=3 tokens but the vocabulary has 5"),
    ("unclear: concise net for fewer tokens", lambda: train.predict(
        "ab", 3, models.RNNModel(nn.GRU(3, 4), 3), VOCAB, device=CPU), ValueError,
     "the net was built for vocab_size=3 tokens"),
    ("unclear: train ids out of range", lambda: train_with(
        train_iter=loader_over(VOCAB[CHARS][:-1] + [99])), ValueError,
     "train_iter.corpus holds token id 99, outside 0..4"),
    ("unclear: evaluate ids out of range",
     lambda: train.evaluate_perplexity(tiny_net(), [0, 1, 99], device=CPU), ValueError,
     "corpus holds token id 99, outside 0..4"),
    ("unclear: evaluate concise ids out of range", lambda: train.evaluate_perplexity(
        models.RNNModel(nn.GRU(5, 4), 5), [0, 7, 1], device=CPU), ValueError,
     "corpus holds token id 7, outside 0..4"),
    ("unclear: temperature 1e-300", lambda: train.predict("ab", 3, tiny_net(), VOCAB, device=CPU,
                                                        temperature=1e-300),
     ValueError, "temperature=1e-300 is too small"),
    ("unclear: empty iterator to train", lambda: train_with(train_iter=iter([])), TypeError,
     "train_iter must be a loader such as iterators.SeqDataLoader"),
    ("unclear: empty list to train", lambda: train_with(train_iter=[]), TypeError,
     "train_iter must be a loader such as iterators.SeqDataLoader"),
    ("unclear: loader with no minibatches", lambda: train_with(train_iter=EmptyLoader()),
     ValueError, "train_iter gave no minibatches"),
    ("unclear: train_epoch with no minibatches", lambda: train.train_epoch(
        tiny_net(), EmptyLoader(), CountingSGD(tiny_net().parameters(), 1.0), device=CPU,
        clip_theta=1.0), ValueError, "train_iter gave no minibatches"),
]


@pytest.mark.parametrize("call,error,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_clearly(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)


@pytest.fixture
def no_gpu(monkeypatch):
    """This machine as one without a GPU (whether or not it has one)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


@pytest.mark.parametrize("call", [
    lambda dev: train_with(device=dev),
    lambda dev: train.predict("ab", 3, tiny_net(), VOCAB, device=dev),
    lambda dev: train.evaluate_perplexity(tiny_net(), VOCAB[CHARS], device=dev),
], ids=["train", "predict", "evaluate_perplexity"])
@pytest.mark.parametrize("device", [torch.device("cuda"), "cuda", "cuda:1"])
def test_unclear_a_cuda_device_without_a_gpu_is_named(no_gpu, call, device):
    with pytest.raises(RuntimeError, match=r"device=.*cuda.* asks for a CUDA GPU but torch sees "
                                           r"none.*use config.device\(\)"):
        call(device)


def test_unclear_course_device_cuda_without_a_gpu_is_named(no_gpu, monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="COURSE_DEVICE=cuda but no CUDA GPU is visible.*"
                                           "unset COURSE_DEVICE or set it to cpu"):
        config.device()


def generator_states():
    return random.getstate(), np.random.get_state()[1].tolist(), torch.random.get_rng_state()


@pytest.mark.parametrize("seed,error", [(-1, ValueError), (2 ** 40, ValueError), (1.5, TypeError),
                                        (None, TypeError), ("42", TypeError), (True, TypeError)])
def test_late_set_seed_fails_before_reseeding_anything(seed, error):
    random.seed(123), np.random.seed(123), torch.manual_seed(123)
    before = generator_states()
    with pytest.raises(error, match=r"seed must be an integer in 0\.\.4,294,967,295.*nothing was "
                                    r"reseeded"):
        config.set_seed(seed)
    after = generator_states()
    assert before[:2] == after[:2] and torch.equal(before[2], after[2])


def test_late_ngrams_of_a_huge_n_return_nothing_without_slicing_n_times():
    class CountingSlices(list):
        slices = 0

        def __getitem__(self, item):
            if isinstance(item, slice):
                CountingSlices.slices += 1
                assert CountingSlices.slices <= 10, "sliced once for each of the n positions"
            return super().__getitem__(item)
    assert ngram.ngrams(CountingSlices("abc"), 10 ** 8) == []
    assert ngram.ngrams(CHARS, 10 ** 8) == [] and ngram.ngrams(CHARS, len(CHARS) + 1) == []
    assert ngram.ngrams(list("abc"), 3) == [("a", "b", "c")]


def test_silent_a_cell_that_changes_the_lyrics_does_not_change_the_next_run():
    corpus, vocab, valid, test = RUNS.lyrics()
    kept = (list(corpus), list(vocab.idx_to_token), list(valid), list(test))
    corpus.reverse(), valid.append(0), test.clear()
    vocab.idx_to_token.reverse(), vocab.token_to_idx.clear()
    again = RUNS.lyrics()
    assert (again[0], again[1].idx_to_token, again[2], again[3]) == kept
    assert again[1][kept[1][5]] == 5


def test_good_inputs_next_to_the_bad_ones_still_work():
    assert VOCAB.to_tokens(0) == "<unk>" and VOCAB.to_tokens(torch.tensor(1)) == VOCAB.idx_to_token[1]
    assert len(text.load_corpus_jay_lyrics(20000)[0]) == 20000
    net = net_with_grads()
    assert float(train.grad_clipping(net, 1e-3)) > 1e-3


def test_edge_inputs_that_are_legitimate_do_what_the_docstrings_say():
    assert train.predict("ab", 0, tiny_net(), VOCAB, device=CPU) == "ab"  # "只返回前缀"
    assert train.predict("ab", 3, tiny_net(), VOCAB, device=CPU, temperature=1e-4).startswith("ab")
    assert text.Vocab(CHARS, min_freq=0).idx_to_token == text.Vocab(CHARS, min_freq=1).idx_to_token
    assert len(text.Vocab(CHARS, min_freq=2.5)) == len(VOCAB)  # every char here occurs > 2.5 times
    assert ngram.UniformLM(10).perplexity([1, 2, 1, 2]) == pytest.approx(10)  # fewer types: fine
    untrained = memory_task.train_delay(nn.RNN, seed=0, delay=0, num_updates=0)
    assert 0 <= untrained <= 1  # "num_updates=0 给出未训练模型的准确率"
    assert config.set_seed(0) == 0 and config.set_seed(2 ** 32 - 1) == 2 ** 32 - 1
    assert config.set_seed(np.int64(7)) == 7
    assert RUNS.lyrics(chars=None)[0] == RUNS.lyrics()[0] and len(RUNS.lyrics(chars=500)[0]) == 500
