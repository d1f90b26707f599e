"""The LSTM of chapter 8: the scratch step against nn.LSTM (outputs, states, gradients), the
gates' extremes, the memory cell that carries the gradient, and training."""
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
    params = models.get_lstm_params(V, H, CPU)
    with torch.no_grad():  # larger than the 0.01 init so that every term matters
        for p in params:
            p.normal_(0, 0.5)
    return params


def nn_lstm_from(params, bias_hh=None):
    """An nn.LSTM holding the scratch weights. PyTorch stacks the gates as (input, forget,
    cell, output), stores x W^T and adds two biases (b_ih + b_hh): the scratch bias of each
    gate may be split between them."""
    W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, _, _ = params
    bias_hh = torch.zeros(4 * H) if bias_hh is None else bias_hh
    layer = nn.LSTM(V, H)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.cat([W_xi, W_xf, W_xc, W_xo], 1).T)
        layer.weight_hh_l0.copy_(torch.cat([W_hi, W_hf, W_hc, W_ho], 1).T)
        layer.bias_ih_l0.copy_(torch.cat([b_i, b_f, b_c, b_o]) - bias_hh)
        layer.bias_hh_l0.copy_(bias_hh)
    return layer


def test_scratch_lstm_equals_nn_lstm_outputs_states_and_gradients():
    params = scratch_params()
    layer = nn_lstm_from(params, bias_hh=torch.randn(4 * H))
    X = torch.randint(0, V, (T, B))
    h0, c0 = torch.randn(B, H), torch.randn(B, H)
    Y_nn, (h_nn, c_nn) = layer(F.one_hot(X, V).float(), (h0[None], c0[None]))
    W_hq, b_q = params[-2:]
    y_scratch, (h_scratch, c_scratch) = models.lstm(X, (h0, c0), params)
    assert torch.allclose(h_scratch, h_nn[0], atol=1e-5)
    assert torch.allclose(c_scratch, c_nn[0], atol=1e-5)
    # Every step's output: logits = H_t W_hq + b_q, time-major rows.
    assert torch.allclose(y_scratch, Y_nn.reshape(-1, H) @ W_hq + b_q, atol=1e-4)
    y_scratch.square().sum().backward()
    (Y_nn.reshape(-1, H) @ W_hq.detach() + b_q.detach()).square().sum().backward()
    rows = {"input": 0, "forget": 1, "cell": 2, "output": 3}  # PyTorch's order of the gates
    scratch_hh = {"input": params[1], "forget": params[4], "output": params[7], "cell": params[10]}
    scratch_xh = {"input": params[0], "forget": params[3], "output": params[6], "cell": params[9]}
    for gate, k in rows.items():
        block = slice(k * H, (k + 1) * H)
        assert torch.allclose(scratch_hh[gate].grad, layer.weight_hh_l0.grad[block].T, atol=1e-3), gate
        assert torch.allclose(scratch_xh[gate].grad, layer.weight_ih_l0.grad[block].T, atol=1e-3), gate


def test_lstm_state_can_be_carried_across_chunks():
    params = scratch_params()
    X = torch.randint(0, V, (T, B))
    state = (torch.randn(B, H), torch.randn(B, H))
    y_all, (h_all, c_all) = models.lstm(X, state, params)
    y1, middle = models.lstm(X[:3], state, params)
    y2, (h_two, c_two) = models.lstm(X[3:], middle, params)
    assert torch.allclose(torch.cat([y1, y2]), y_all, atol=1e-5)
    assert torch.allclose(h_two, h_all, atol=1e-6) and torch.allclose(c_two, c_all, atol=1e-6)


def with_gate_biases(params, forget=0.0, input_=0.0, output=0.0):
    p = [q.detach().clone() for q in params]
    p[2] += input_
    p[5] += forget
    p[8] += output
    return p


def test_open_forget_gate_and_closed_input_gate_keep_the_memory_cell():
    params = scratch_params()
    X = torch.randint(0, V, (T, B))
    h0, c0 = torch.rand(B, H) * 2 - 1, torch.randn(B, H)
    _, (h, c) = models.lstm(X, (h0, c0), with_gate_biases(params, forget=50, input_=-50, output=50))
    assert torch.allclose(c, c0, atol=1e-5)  # F = 1, I = 0: the cell passes unchanged
    assert torch.allclose(h, torch.tanh(c0), atol=1e-5)  # O = 1: H shows the kept cell
    _, (h_closed, _) = models.lstm(X, (h0, c0), with_gate_biases(params, output=-50))
    assert h_closed.abs().max() < 1e-6  # O = 0: the cell is kept hidden


def test_the_memory_cell_lets_the_gradient_through_time_where_the_rnn_loses_it():
    torch.manual_seed(0)
    steps = 60
    X = torch.randint(0, V, (steps, 1))
    rnn_params = models.get_rnn_params(V, H, CPU)
    lstm_params = models.get_lstm_params(V, H, CPU)
    with torch.no_grad():
        lstm_params[5] += 5.0  # b_f: F = sigmoid(5) ~ 0.993
    c0 = torch.zeros(1, H, requires_grad=True)
    _, (_, c) = models.lstm(X, (torch.zeros(1, H), c0), lstm_params)
    c.sum().backward()
    h0 = torch.zeros(1, H, requires_grad=True)
    _, (h,) = models.rnn(X, (h0,), rnn_params)
    h.sum().backward()
    assert h0.grad.norm() < 1e-20 and c0.grad.norm() > 0.5


def test_parameter_counts_of_scratch_and_nn_lstm():
    scratch = models.RNNModelScratch(V, H, device=CPU, get_params=models.get_lstm_params,
                                     init_state=models.init_lstm_state, forward_fn=models.lstm)
    concise = models.RNNModel(nn.LSTM(V, H), V)
    hidden_part = 4 * (V * H + H * H + H)
    assert models.count_parameters(scratch) == hidden_part + H * V + V
    assert models.count_parameters(concise) == hidden_part + 4 * H + H * V + V  # + bias_hh


def test_init_lstm_state_is_two_zero_tensors():
    h, c = models.init_lstm_state(B, H, CPU)
    assert h.shape == c.shape == (B, H) and not h.any() and not c.any()


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_scratch_lstm_training_lowers_perplexity_on_a_tiny_corpus(use_random_iter):
    torch.manual_seed(0)
    chars = list("分开不分开战争中部队 " * 30)
    vocab = text.Vocab(chars)
    loader = iterators.SeqDataLoader(vocab[chars], 4, 8, use_random_iter=use_random_iter,
                                     rng=random.Random(0))
    net = models.RNNModelScratch(len(vocab), 32, device=CPU, get_params=models.get_lstm_params,
                                 init_state=models.init_lstm_state, forward_fn=models.lstm)
    hist = train.train(net, loader, vocab, torch.optim.Adam(net.parameters(), 0.05), 40,
                       device=CPU, clip_theta=1.0, log=None, prefixes=["分开"], pred_period=40,
                       pred_len=4)
    assert hist.perplexity[0] > 3 * hist.perplexity[-1]  # Adam: most of it happens early
    assert hist.perplexity[-1] < 1.5  # the repeating text is learned
    # after "分开" the text goes on with "不" or with "战": both continuations are in the corpus
    assert hist.samples[40][0] in ("分开不分开战", "分开战争中部")
