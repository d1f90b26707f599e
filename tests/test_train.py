import math
import random
import unittest.mock

import pytest
import torch
from torch import nn

from course_utils import iterators, models, text, train
from tools import reference

CPU = torch.device("cpu")


def scratch_rnn(vocab_size, hiddens=32):
    return models.RNNModelScratch(vocab_size, hiddens, device=CPU, get_params=models.get_rnn_params,
                                  init_state=models.init_rnn_state, forward_fn=models.rnn)


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
    loader = iterators.SeqDataLoader(vocab[chars], 4, 6, use_random_iter=use_random_iter,
                                     rng=random.Random(0))
    return loader, vocab


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_training_lowers_perplexity_on_a_tiny_corpus(use_random_iter):
    loader, vocab = tiny_setup(use_random_iter)
    net = scratch_rnn(len(vocab))
    hist = train.train(net, loader, vocab, train.SGD(net.parameters(), 1.0), 30, device=CPU,
                       clip_theta=1.0, log=None)
    assert hist.perplexity[-1] < 0.5 * hist.perplexity[0]
    assert hist.perplexity[-1] < len(vocab)


def test_training_concise_gru_with_adam():
    loader, vocab = tiny_setup()
    net = models.RNNModel(nn.GRU(len(vocab), 32), len(vocab))
    hist = train.train(net, loader, vocab, torch.optim.Adam(net.parameters(), 1e-2), 20,
                       device=CPU, clip_theta=1.0, prefixes=["ab"], pred_period=10, pred_len=5,
                       valid_corpus=vocab[list("abcabd" * 5)], log=None)
    assert hist.perplexity[-1] < 2.0
    assert hist.valid_epochs == [10, 20] and hist.valid_perplexity[-1] < 3.0
    assert set(hist.samples) == {10, 20} and hist.samples[20][0].startswith("ab")
    summary = hist.summary()
    assert summary["epochs"] == 20 and summary["seconds_per_epoch"] > 0
    with pytest.raises(ValueError, match="num_epochs"):
        train.train(net, loader, vocab, None, 0, device=CPU, clip_theta=1.0)


def test_predict_is_deterministic_and_checks_its_input():
    vocab = text.Vocab(list("分开不我想"))
    torch.manual_seed(0)
    net = scratch_rnn(len(vocab))
    a = train.predict("分开", 10, net, vocab, device=CPU)
    assert a == train.predict("分开", 10, net, vocab, device=CPU) and len(a) == 12
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    s1 = train.predict("分开", 10, net, vocab, device=CPU, temperature=1.0, generator=g1)
    assert s1 == train.predict("分开", 10, net, vocab, device=CPU, temperature=1.0, generator=g2)
    with pytest.raises(ValueError, match=r"outside the vocabulary: \['战', '争'\]"):
        train.predict("战争分开", 5, net, vocab, device=CPU)
    with pytest.raises(ValueError, match="num_preds"):
        train.predict("分开", -1, net, vocab, device=CPU)
    with pytest.raises(ValueError, match="empty"):
        train.predict("", 3, net, vocab, device=CPU)
    with pytest.raises(ValueError, match="temperature"):
        train.predict("分", 3, net, vocab, device=CPU, temperature=-1)


def test_evaluate_perplexity_of_an_untrained_model_is_near_uniform():
    vocab = text.Vocab(list("abcdefgh"))
    net = scratch_rnn(len(vocab))
    ppl = train.evaluate_perplexity(net, vocab[list("abcdefgh" * 10)], device=CPU, num_steps=7)
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
        loader = iterators.SeqDataLoader(corpus, 32, 35, use_random_iter=use_random_iter)
        ppl, _, _ = train.train_epoch(net, loader, train.SGD(net.params, 1.0), device=CPU,
                                      clip_theta=1.0)
        assert ppl == pytest.approx(ref_ppl, rel=1e-4)


def test_evaluate_perplexity_can_skip_a_target_index():
    vocab = text.Vocab(list("abcdefgh"))
    net = scratch_rnn(len(vocab))
    with torch.no_grad():  # every prediction: 'c' with probability ~1
        net.params[-1][vocab["c"]] = 50.0
    corpus = vocab[list("acacac")]  # targets c a c a c
    assert train.evaluate_perplexity(net, corpus, device=CPU, num_steps=2) > 1e6  # 'a' gets ~e^-50
    # Without the 'a' targets only well-predicted 'c' targets remain in the mean.
    ppl = train.evaluate_perplexity(net, corpus, device=CPU, num_steps=2, ignore_index=vocab["a"])
    assert ppl == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="nothing to score"):
        train.evaluate_perplexity(net, vocab[list("aaaa")], device=CPU, ignore_index=vocab["a"])
    with pytest.raises(ValueError, match="at least 2 tokens"):
        train.evaluate_perplexity(net, vocab[["a"]], device=CPU)


def test_progress_bar_is_stored_as_one_finished_bar_in_an_executed_notebook(tmp_path):
    """What the site shows: nbclient keeps the last state of the bar, one output for the
    whole run (not one line per epoch), and it ends at num_epochs/num_epochs."""
    import nbformat
    from nbclient import NotebookClient
    source = (
        "import random, torch\n"
        "from course_utils import iterators, models, text, train\n"
        "chars = list('abcabcabdabcabcabd' * 20)\n"
        "vocab = text.Vocab(chars)\n"
        "loader = iterators.SeqDataLoader(vocab[chars], 4, 6, rng=random.Random(0))\n"
        "net = models.RNNModelScratch(len(vocab), 8, device='cpu', get_params=models.get_rnn_params,\n"
        "                             init_state=models.init_rnn_state, forward_fn=models.rnn)\n"
        "h = train.train(net, loader, vocab, train.SGD(net.parameters(), 1.0), 4, device='cpu',\n"
        "                clip_theta=1.0, log=None)\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    html = [o["data"]["text/html"] for o in nb.cells[0].outputs if "text/html" in o.get("data", {})]
    bars = [h for h in html if "<progress" in h]
    assert len(bars) == 1, html
    assert "value='4'" in bars[0] and "max='4'" in bars[0] and "100.00% [4/4" in bars[0]
    assert "困惑度" in bars[0]


def test_no_progress_output_outside_jupyter(capsys):
    loader, vocab = tiny_setup()
    net = scratch_rnn(len(vocab))
    train.train(net, loader, vocab, train.SGD(net.parameters(), 1.0), 2, device=CPU,
                clip_theta=1.0, log=None)
    assert capsys.readouterr().out == ""


def test_choosing_on_validation_keeps_the_best_epoch_parameters():
    loader, vocab = tiny_setup()
    net = scratch_rnn(len(vocab))
    logged = []
    valid = vocab[list("abcabd" * 4)]
    hist = train.train(net, loader, vocab, train.SGD(net.parameters(), 1.0), 5, device=CPU,
                       clip_theta=1.0, pred_period=5, valid_corpus=valid, valid_period=2,
                       log=logged.append)
    assert hist.valid_epochs == [2, 4, 5] and set(hist.samples) == {5}
    assert len(logged) == 1 and "验证困惑度" in logged[0]
    summary = hist.summary()
    best = min(hist.valid_perplexity)
    assert summary["best_valid_perplexity"] == best
    assert hist.best_epoch == hist.valid_epochs[hist.valid_perplexity.index(best)]
    # the kept parameters give exactly the best validation perplexity again
    train.load_params(net, hist.best_params)
    assert train.evaluate_perplexity(net, valid, device=CPU) == pytest.approx(best, rel=1e-6)


def test_train_epoch_reports_the_median_gradient_norm_before_clipping():
    loader, vocab = tiny_setup()
    net = scratch_rnn(len(vocab))
    norms = []
    original = train.grad_clipping

    def spy(net, theta):
        norms.append(float(original(net, theta)))
        return torch.tensor(norms[-1])
    with unittest.mock.patch.object(train, "grad_clipping", spy):
        _, _, median = train.train_epoch(net, loader, train.SGD(net.parameters(), 1.0),
                                         device=CPU, clip_theta=1e-3)
    assert len(norms) > 2 and median == pytest.approx(sorted(norms)[(len(norms) - 1) // 2])
    assert median > 1e-3  # measured before the clipping, not after


class DropoutGRU(nn.Module):
    """A concise GRU with dropout before its output layer: scores differ between calls in
    training mode, so evaluation that forgets eval() is noisy."""

    def __init__(self, vocab_size, num_hiddens=16):
        super().__init__()
        self.inner = models.RNNModel(nn.GRU(vocab_size, num_hiddens), vocab_size)
        self.drop = nn.Dropout(0.5)

    def forward(self, X, state):
        Y, state = self.inner.rnn(nn.functional.one_hot(X.T, self.inner.vocab_size).float(), state)
        return self.inner.linear(self.drop(Y.reshape(-1, Y.shape[-1]))), state

    def begin_state(self, batch_size, device):
        return self.inner.begin_state(batch_size, device)


def test_evaluation_and_generation_switch_dropout_off_and_restore_the_mode():
    vocab = text.Vocab(list("abcdefgh"))
    torch.manual_seed(0)
    net = DropoutGRU(len(vocab))
    corpus = vocab[list("abcdefghhgfedcba" * 8)]
    net.train()
    scores = [train.evaluate_perplexity(net, corpus, device=CPU) for _ in range(3)]
    assert net.training, "evaluation must give back the mode it found"
    net.eval()
    assert scores == [train.evaluate_perplexity(net, corpus, device=CPU)] * 3
    net.train()
    texts = {train.predict("ab", 20, net, vocab, device=CPU) for _ in range(3)}
    assert len(texts) == 1 and net.training
    # training switches dropout back on, whatever mode the net was left in
    net.eval()
    loader = iterators.SeqDataLoader(corpus, 2, 4, rng=random.Random(0))
    seen = []
    net.drop.register_forward_hook(lambda module, args, out: seen.append(module.training))
    train.train_epoch(net, loader, torch.optim.Adam(net.parameters(), 1e-2), device=CPU,
                      clip_theta=1.0)
    assert seen and all(seen)


def test_evaluating_leaves_scratch_models_alone():
    vocab = text.Vocab(list("abc"))
    net = scratch_rnn(len(vocab))
    with train.evaluating(net) as same:
        assert same is net and not hasattr(net, "training")


def test_evaluating_in_several_streams_matches_separate_passes():
    """batch_size rows are read side by side: the same as scoring each row on its own."""
    vocab = text.Vocab(list("abcdefgh"))
    torch.manual_seed(1)
    net = scratch_rnn(len(vocab))
    corpus = vocab[list("abcdefghhgfedcbaabab" * 3 + "c")]  # 61 tokens: 60 targets, 3 rows of 20
    rows = [corpus[i * 20:i * 20 + 21] for i in range(3)]
    nll = sum(math.log(train.evaluate_perplexity(net, row, device=CPU, num_steps=7)) * 20
              for row in rows)
    together = train.evaluate_perplexity(net, corpus, device=CPU, num_steps=7, batch_size=3)
    assert together == pytest.approx(math.exp(nll / 60), rel=1e-5)
    with pytest.raises(ValueError, match="at least 4 tokens"):
        train.evaluate_perplexity(net, corpus[:3], device=CPU, batch_size=3)


def test_early_stopping_stops_after_patience_validations_without_a_new_best():
    loader, vocab = tiny_setup()
    net = models.RNNModel(nn.GRU(len(vocab), 32), len(vocab))
    # a validation text unlike the training text: its perplexity soon rises again
    hist = train.train(net, loader, vocab, torch.optim.Adam(net.parameters(), 5e-2), 60,
                       device=CPU, clip_theta=1.0, valid_corpus=vocab[list("dcbadcbadcba")],
                       valid_period=1, patience=3, log=None)
    last = hist.epochs[-1]
    assert last < 60 and hist.valid_epochs == list(range(1, last + 1))
    assert hist.best_epoch == last - 3 and min(hist.valid_perplexity[-3:]) >= min(hist.valid_perplexity)
    with pytest.raises(ValueError, match="patience"):
        train.train(net, loader, vocab, None, 5, device=CPU, clip_theta=1.0, patience=0)
