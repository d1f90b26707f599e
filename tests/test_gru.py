"""The GRU of chapter 7: the scratch step against nn.GRU, the gates' extremes, training."""
import random

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course_utils import iterators, models, text, train

V, H, B, T = 13, 10, 4, 7
CPU = torch.device("cpu")


def scratch_params(seed=0):
    torch.manual_seed(seed)
    params = models.get_gru_params(V, H, CPU)
    with torch.no_grad():  # larger than the 0.01 init so that every term matters
        for p in params:
            p.normal_(0, 0.5)
    return params


def nn_gru_from(params, b_hr=None, b_hz=None):
    """An nn.GRU holding the scratch weights. PyTorch stacks the gates as (reset, update, new)
    and stores x W^T; its gates r and z add two biases (b_i* + b_h*), so the scratch bias of
    those gates may be split between them. The new gate's b_hn sits inside R * (...): zero."""
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, _, _ = params
    b_hr = torch.zeros(H) if b_hr is None else b_hr
    b_hz = torch.zeros(H) if b_hz is None else b_hz
    layer = nn.GRU(V, H)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.cat([W_xr, W_xz, W_xh], 1).T)
        layer.weight_hh_l0.copy_(torch.cat([W_hr, W_hz, W_hh], 1).T)
        layer.bias_ih_l0.copy_(torch.cat([b_r - b_hr, b_z - b_hz, b_h]))
        layer.bias_hh_l0.copy_(torch.cat([b_hr, b_hz, torch.zeros(H)]))
    return layer


def test_scratch_gru_with_reset_after_equals_nn_gru_outputs_state_and_gradients():
    params = scratch_params()
    layer = nn_gru_from(params, b_hr=torch.randn(H), b_hz=torch.randn(H))
    X = torch.randint(0, V, (T, B))
    h0 = torch.randn(B, H)
    Y_nn, h_nn = layer(F.one_hot(X, V).float(), h0[None])
    W_hq, b_q = params[-2:]
    y_scratch, (h_scratch,) = models.gru(X, (h0,), params, reset_after=True)
    assert torch.allclose(h_scratch, h_nn[0], atol=1e-5)
    # Every step's output, not only the last state: logits = H_t W_hq + b_q, time-major rows.
    assert torch.allclose(y_scratch, Y_nn.reshape(-1, H) @ W_hq + b_q, atol=1e-4)
    # Same function, so the same gradient for the shared weight W_hh (PyTorch: rows 2H..3H).
    y_scratch.square().sum().backward()
    (Y_nn.reshape(-1, H) @ W_hq.detach() + b_q.detach()).square().sum().backward()
    assert torch.allclose(params[7].grad, layer.weight_hh_l0.grad[2 * H:].T, atol=1e-3)


def test_the_books_gru_is_a_different_model_from_nn_gru():
    params = scratch_params()
    layer = nn_gru_from(params)
    X = torch.randint(0, V, (T, B))
    h0 = torch.randn(B, H)
    _, h_nn = layer(F.one_hot(X, V).float(), h0[None])
    _, (h_book,) = models.gru(X, (h0,), params)
    assert (h_book - h_nn[0]).abs().max() > 1e-2


def test_gru_state_can_be_carried_across_chunks():
    params = scratch_params()
    X = torch.randint(0, V, (T, B))
    h0 = torch.randn(B, H)
    y_all, (h_all,) = models.gru(X, (h0,), params)
    y1, state = models.gru(X[:3], (h0,), params)
    y2, (h_two,) = models.gru(X[3:], state, params)
    assert torch.allclose(torch.cat([y1, y2]), y_all, atol=1e-5)
    assert torch.allclose(h_two, h_all, atol=1e-6)


def gates(params, X, h0):
    """Z and R of every step, computed from the equations (independently of models.gru)."""
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, _, _ = [p.detach() for p in params]
    Hs, Zs, Rs = h0, [], []
    for x in F.one_hot(X, V).float():
        Z = torch.sigmoid(x @ W_xz + Hs @ W_hz + b_z)
        R = torch.sigmoid(x @ W_xr + Hs @ W_hr + b_r)
        Hs = Z * Hs + (1 - Z) * torch.tanh(x @ W_xh + (R * Hs) @ W_hh + b_h)
        Zs.append(Z)
        Rs.append(R)
    return torch.stack(Zs), torch.stack(Rs), Hs


def test_the_step_matches_the_equations():
    params = scratch_params()
    X = torch.randint(0, V, (T, B))
    h0 = torch.rand(B, H) * 2 - 1
    _, _, h_eq = gates(params, X, h0)
    _, (h,) = models.gru(X, (h0,), params)
    assert torch.allclose(h, h_eq, atol=1e-5)


def test_gates_stay_in_unit_interval_even_when_saturated():
    params = scratch_params()
    with torch.no_grad():
        for p in params:
            p.mul_(20)  # saturate: sigmoid and tanh at their limits
    X = torch.randint(0, V, (T, B))
    h0 = torch.rand(B, H) * 2 - 1
    Z, R, _ = gates(params, X, h0)
    assert Z.min() >= 0 and Z.max() <= 1 and R.min() >= 0 and R.max() <= 1
    assert (Z < 1e-3).any() and (Z > 1 - 1e-3).any()  # saturated both ways, still in range
    _, (h,) = models.gru(X, (h0,), params)
    assert h.abs().max() <= 1.0  # a convex mix of values in [-1, 1]


def test_update_gate_near_one_keeps_the_state_and_near_zero_gives_the_rnn():
    params = [p.detach() for p in scratch_params()]
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    X = torch.randint(0, V, (T, B))
    h0 = torch.rand(B, H) * 2 - 1
    keep = [W_xz, W_hz, b_z + 50, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    _, (h_keep,) = models.gru(X, (h0,), keep)
    assert torch.allclose(h_keep, h0, atol=1e-6)
    plain = [W_xz, W_hz, b_z - 50, W_xr, W_hr, b_r + 50, W_xh, W_hh, b_h, W_hq, b_q]
    y_gru, (h_gru,) = models.gru(X, (h0,), plain)
    y_rnn, (h_rnn,) = models.rnn(X, (h0,), [W_xh, W_hh, b_h, W_hq, b_q])
    assert torch.allclose(h_gru, h_rnn, atol=1e-6) and torch.allclose(y_gru, y_rnn, atol=1e-5)


def test_an_open_update_gate_lets_the_gradient_through_time():
    """The reason for the gates: with Z near 1 the gradient reaches far back; the RNN's vanishes."""
    torch.manual_seed(0)
    steps = 60
    X = torch.randint(0, V, (steps, 1))

    def grad_norm(fn, params):
        h0 = torch.zeros(1, H, requires_grad=True)
        _, (h,) = fn(X, (h0,), params)
        h.sum().backward()
        return h0.grad.norm().item()

    rnn_params = models.get_rnn_params(V, H, CPU)
    gru_params = models.get_gru_params(V, H, CPU)
    with torch.no_grad():
        gru_params[2] += 5.0  # b_z: Z = sigmoid(5) ~ 0.993
    assert grad_norm(models.rnn, rnn_params) < 1e-20
    assert grad_norm(models.gru, gru_params) > 0.1


def test_parameter_counts_of_scratch_and_nn_gru():
    scratch = models.RNNModelScratch(V, H, device=CPU, get_params=models.get_gru_params,
                                     init_state=models.init_gru_state, forward_fn=models.gru)
    concise = models.RNNModel(nn.GRU(V, H), V)
    hidden_part = 3 * (V * H + H * H + H)
    assert models.count_parameters(scratch) == hidden_part + H * V + V
    assert models.count_parameters(concise) == hidden_part + 3 * H + H * V + V  # + bias_hh


def test_init_gru_state_shape_and_device():
    (state,) = models.init_gru_state(B, H, CPU)
    assert state.shape == (B, H) and not state.any()


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_scratch_gru_training_lowers_perplexity_on_a_tiny_corpus(use_random_iter):
    torch.manual_seed(0)
    chars = list("分开不分开战争中部队 " * 30)
    vocab = text.Vocab(chars)
    loader = iterators.SeqDataLoader(vocab[chars], 4, 8, use_random_iter=use_random_iter,
                                     rng=random.Random(0))
    net = models.RNNModelScratch(len(vocab), 32, device=CPU, get_params=models.get_gru_params,
                                 init_state=models.init_gru_state, forward_fn=models.gru)
    hist = train.train(net, loader, vocab, train.SGD(net.parameters(), 2.0), 40, device=CPU,
                       clip_theta=5.0, log=None, prefixes=["分开"], pred_period=40, pred_len=4)
    assert hist.perplexity[0] > 0.8 * len(vocab)  # starts near the uniform model
    assert hist.perplexity[-1] < 1.5  # the repeating text is learned
    assert hist.samples[40][0] == "分开不分开战"
