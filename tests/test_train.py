import random

import pytest
import torch
from torch import nn

from course_utils import iterators, models, reference, text, train

CPU = torch.device("cpu")


def scratch_rnn(vocab_size, hiddens=32):
    return models.RNNModelScratch(vocab_size, hiddens, CPU, models.get_rnn_params,
                                  models.init_rnn_state, models.rnn)


def test_clipping_bounds_the_global_norm():
    net = nn.Linear(4, 3)
    for p in net.parameters():
        p.grad = torch.full_like(p, 10.0)
    before = train.grad_clipping(net, 1.0)
    after = torch.sqrt(sum((p.grad ** 2).sum() for p in net.parameters()))
    assert before > 1 and torch.isclose(after, torch.tensor(1.0))


def test_clipping_leaves_small_gradients_alone():
    net = nn.Linear(4, 3)
    grads = []
    for p in net.parameters():
        p.grad = torch.full_like(p, 0.01)
        grads.append(p.grad.clone())
    train.grad_clipping(net, 1.0)
    assert all(torch.equal(p.grad, g) for p, g in zip(net.parameters(), grads))


def test_sgd_step_and_zero_grad():
    w = torch.ones(2, requires_grad=True)
    (w * torch.tensor([1.0, 2.0])).sum().backward()
    opt = train.SGD([w], lr=0.5)
    opt.step()
    assert torch.equal(w.detach(), torch.tensor([0.5, 0.0]))
    opt.zero_grad()
    assert w.grad is None


def test_perplexity_reference_points():
    V = 7
    targets = torch.arange(V)
    perfect = torch.full((V, V), -1e9).fill_diagonal_(0.0)
    assert train.perplexity(perfect, targets) == pytest.approx(1.0)
    assert train.perplexity(torch.zeros(V, V), targets) == pytest.approx(V)


def tiny_setup(use_random_iter=False):
    chars = list("abcabcabdabcabcabd" * 20)
    vocab = text.Vocab(chars)
    loader = iterators.SeqDataLoader(vocab[chars], 4, 6, use_random_iter, random.Random(0))
    return loader, vocab


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_training_lowers_perplexity_on_a_tiny_corpus(use_random_iter):
    loader, vocab = tiny_setup(use_random_iter)
    net = scratch_rnn(len(vocab))
    hist = train.train(net, loader, vocab, train.SGD(net.parameters(), 1.0), 30, CPU,
                       clip_theta=1.0, use_random_iter=use_random_iter, log=None)
    assert hist.perplexity[-1] < 0.5 * hist.perplexity[0]
    assert hist.perplexity[-1] < len(vocab)


def test_training_concise_gru_with_adam():
    loader, vocab = tiny_setup()
    net = models.RNNModel(nn.GRU(len(vocab), 32), len(vocab))
    hist = train.train(net, loader, vocab, torch.optim.Adam(net.parameters(), 1e-2), 20, CPU,
                       prefixes=["ab"], pred_period=10, pred_len=5,
                       valid_corpus=vocab[list("abcabd" * 5)], log=None)
    assert hist.perplexity[-1] < 2.0
    assert hist.valid_epochs == [10, 20] and hist.valid_perplexity[-1] < 3.0
    assert set(hist.samples) == {10, 20} and hist.samples[20][0].startswith("ab")
    summary = hist.summary()
    assert summary["epochs"] == 20 and summary["seconds_per_epoch"] > 0
    with pytest.raises(ValueError, match="num_epochs"):
        train.train(net, loader, vocab, None, 0, CPU)


def test_predict_is_deterministic_and_checks_its_input():
    vocab = text.Vocab(list("分开不我想"))
    torch.manual_seed(0)
    net = scratch_rnn(len(vocab))
    a = train.predict("分开", 10, net, vocab, CPU)
    assert a == train.predict("分开", 10, net, vocab, CPU) and len(a) == 12
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    s1 = train.predict("分开", 10, net, vocab, CPU, temperature=1.0, generator=g1)
    assert s1 == train.predict("分开", 10, net, vocab, CPU, temperature=1.0, generator=g2)
    with pytest.raises(ValueError, match=r"outside the vocabulary: \['战', '争'\]"):
        train.predict("战争分开", 5, net, vocab, CPU)
    with pytest.raises(ValueError, match="num_preds"):
        train.predict("分开", -1, net, vocab, CPU)
    with pytest.raises(ValueError, match="empty"):
        train.predict("", 3, net, vocab, CPU)
    with pytest.raises(ValueError, match="temperature"):
        train.predict("分", 3, net, vocab, CPU, temperature=-1)


def test_evaluate_perplexity_of_an_untrained_model_is_near_uniform():
    vocab = text.Vocab(list("abcdefgh"))
    net = scratch_rnn(len(vocab))
    ppl = train.evaluate_perplexity(net, vocab[list("abcdefgh" * 10)], CPU, num_steps=7)
    assert ppl == pytest.approx(len(vocab), rel=0.02)


# d2l's own train_epoch_ch8 converts a loss that requires grad to a float (its warning).
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True:UserWarning")
def test_first_epoch_agrees_with_d2l(tm_corpus):
    """Same weights, same minibatches (same seed): d2l's train_epoch_ch8 and ours."""
    d2l = reference.import_d2l()
    corpus, vocab = tm_corpus
    corpus = corpus[:6000]
    torch.manual_seed(0)
    ref_net = d2l.RNNModelScratch(len(vocab), 64, CPU, models.get_rnn_params,
                                  models.init_rnn_state, reference.book_rnn)
    net = scratch_rnn(len(vocab), 64)
    with torch.no_grad():
        for ours, ref in zip(net.params, ref_net.params):
            ours.copy_(ref)
    for use_random_iter in (False, True):
        random.seed(5)
        ref_fn = d2l.seq_data_iter_random if use_random_iter else d2l.seq_data_iter_sequential
        ref_iter = ref_fn(corpus, 32, 35)
        ref_ppl, _ = d2l.train_epoch_ch8(ref_net, ref_iter, nn.CrossEntropyLoss(),
                                         lambda batch_size: d2l.sgd(ref_net.params, 1.0, batch_size),
                                         CPU, use_random_iter)
        random.seed(5)
        loader = iterators.SeqDataLoader(corpus, 32, 35, use_random_iter)
        ppl, _ = train.train_epoch(net, loader, train.SGD(net.params, 1.0), CPU, use_random_iter, 1.0)
        assert ppl == pytest.approx(ref_ppl, rel=1e-4)


def test_evaluate_perplexity_can_skip_a_target_index():
    vocab = text.Vocab(list("abcdefgh"))
    net = scratch_rnn(len(vocab))
    with torch.no_grad():  # every prediction: 'c' with probability ~1
        net.params[-1][vocab["c"]] = 50.0
    corpus = vocab[list("acacac")]  # targets c a c a c
    assert train.evaluate_perplexity(net, corpus, CPU, num_steps=2) > 1e6  # 'a' gets ~e^-50
    # Without the 'a' targets only well-predicted 'c' targets remain in the mean.
    ppl = train.evaluate_perplexity(net, corpus, CPU, num_steps=2, ignore_index=vocab["a"])
    assert ppl == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="nothing to score"):
        train.evaluate_perplexity(net, vocab[list("aaaa")], CPU, ignore_index=vocab["a"])
    with pytest.raises(ValueError, match="at least 2 tokens"):
        train.evaluate_perplexity(net, vocab[["a"]], CPU)


class FakeHandle:
    def __init__(self, bundle):
        self.bundles = [bundle]

    def update(self, bundle, raw=False):
        assert raw
        self.bundles.append(bundle)


def test_progress_bar_updates_in_place_and_ends_complete(monkeypatch):
    handles = []

    def fake_display(bundle):
        handles.append(FakeHandle(bundle))
        return handles[-1]
    monkeypatch.setattr(train, "_display_handle", fake_display)
    loader, vocab = tiny_setup()
    net = scratch_rnn(len(vocab))
    train.train(net, loader, vocab, train.SGD(net.parameters(), 1.0), 4, CPU, log=None,
                progress=True)
    assert len(handles) == 1  # one output, updated in place: not one line per epoch
    bundles = handles[0].bundles
    assert len(bundles) == 1 + 4
    final = bundles[-1]
    assert final["text/plain"].startswith("epoch 4/4") and "完成" in final["text/plain"]
    assert 'value="4" max="4"' in final["text/html"]
    assert "完成" not in bundles[-2]["text/plain"]


def test_progress_is_off_outside_jupyter_by_default(monkeypatch):
    def fail(bundle):
        raise AssertionError("no display outside Jupyter")
    monkeypatch.setattr(train, "_display_handle", fail)
    assert not train._in_jupyter()
    bar = train.Progress(3)
    bar.update(1, 10.0)  # silently does nothing
    assert bar.handle is None


def test_valid_period_and_best_valid_summary():
    loader, vocab = tiny_setup()
    net = scratch_rnn(len(vocab))
    logged = []
    hist = train.train(net, loader, vocab, train.SGD(net.parameters(), 1.0), 5, CPU,
                       pred_period=5, valid_corpus=vocab[list("abcabd" * 4)], valid_period=2,
                       log=logged.append)
    assert hist.valid_epochs == [2, 4, 5] and set(hist.samples) == {5}
    assert len(logged) == 1 and "留出困惑度" in logged[0]
    summary = hist.summary()
    best = min(hist.valid_perplexity)
    assert summary["best_valid_perplexity"] == best
    assert summary["best_valid_epoch"] == hist.valid_epochs[hist.valid_perplexity.index(best)]
    with pytest.raises(ValueError, match="valid_period"):
        train.train(net, loader, vocab, None, 1, CPU, valid_period=0)
