import torch
from torch import nn
from torch.nn import functional as F

from course_utils import models
from tools import reference

V, H, B, T = 11, 8, 3, 5
CPU = torch.device("cpu")


def test_fast_rnn_equals_the_one_hot_form():
    params = models.get_rnn_params(V, H, CPU)
    X = torch.randint(0, V, (T, B))
    state = (torch.randn(B, H),)
    y1, (h1,) = models.rnn(X, state, params)
    y2, (h2,) = reference.book_rnn(F.one_hot(X, V).float(), state, params)
    assert y1.shape == (T * B, V)
    assert torch.allclose(y1, y2, atol=1e-6) and torch.allclose(h1, h2, atol=1e-6)


def test_scratch_rnn_matches_nn_rnn():
    params = models.get_rnn_params(V, H, CPU)
    W_xh, W_hh, b_h, W_hq, b_q = params
    layer = nn.RNN(V, H)
    with torch.no_grad():  # nn.RNN computes x W_ih^T + b_ih + h W_hh^T + b_hh
        layer.weight_ih_l0.copy_(W_xh.T)
        layer.weight_hh_l0.copy_(W_hh.T)
        layer.bias_ih_l0.copy_(b_h + 0.1)
        layer.bias_hh_l0.fill_(-0.1)
    X = torch.randint(0, V, (B, T))
    _, (h_scratch,) = models.rnn(X.T, (torch.zeros(B, H),), params)
    _, h_nn = layer(F.one_hot(X.T, V).float())
    assert torch.allclose(h_scratch, h_nn[0], atol=1e-6)


def test_fast_gru_equals_the_book_form():
    params = models.get_gru_params(V, H, CPU)
    X = torch.randint(0, V, (T, B))
    state = (torch.randn(B, H),)
    y1, (h1,) = models.gru(X, state, params)
    y2, (h2,) = reference.book_gru(F.one_hot(X, V).float(), state, params)
    assert torch.allclose(y1, y2, atol=1e-6) and torch.allclose(h1, h2, atol=1e-6)


def test_fast_lstm_equals_the_book_form():
    params = models.get_lstm_params(V, H, CPU)
    X = torch.randint(0, V, (T, B))
    state = (torch.randn(B, H), torch.randn(B, H))
    y1, (h1, c1) = models.lstm(X, state, params)
    y2, (h2, c2) = reference.book_lstm(F.one_hot(X, V).float(), state, params)
    assert torch.allclose(y1, y2, atol=1e-6) and torch.allclose(h1, h2, atol=1e-6)
    assert torch.allclose(c1, c2, atol=1e-6)


def test_scratch_wrapper_and_nn_wrapper_shapes():
    net = models.RNNModelScratch(V, H, device=CPU, get_params=models.get_rnn_params,
                                 init_state=models.init_rnn_state, forward_fn=models.rnn)
    X = torch.randint(0, V, (B, T))
    y, state = net(X, net.begin_state(B, CPU))
    assert y.shape == (T * B, V) and state[0].shape == (B, H)
    assert models.count_parameters(net) == V * H + H * H + H + H * V + V
    for layer in (nn.RNN(V, H), nn.GRU(V, H), nn.LSTM(V, H, num_layers=2, bidirectional=True)):
        model = models.RNNModel(layer, V)
        y, _ = model(X, model.begin_state(B, CPU))
        assert y.shape == (T * B, V)


def test_parameter_count_does_not_depend_on_sequence_length():
    net = models.RNNModelScratch(V, H, device=CPU, get_params=models.get_rnn_params,
                                 init_state=models.init_rnn_state, forward_fn=models.rnn)
    n = models.count_parameters(net)
    for steps in (1, 10, 100):
        net(torch.randint(0, V, (B, steps)), net.begin_state(B, CPU))
        assert models.count_parameters(net) == n


def test_concise_rnn_model_equals_the_scratch_model_with_the_same_weights():
    """Whole language models (input, recurrence, output layer), not only the hidden state."""
    scratch = models.RNNModelScratch(V, H, device=CPU, get_params=models.get_rnn_params,
                                     init_state=models.init_rnn_state, forward_fn=models.rnn)
    W_xh, W_hh, b_h, W_hq, b_q = scratch.params
    with torch.no_grad():
        b_h.normal_()
        b_q.normal_()
    concise = models.RNNModel(nn.RNN(V, H), V)
    with torch.no_grad():
        concise.rnn.weight_ih_l0.copy_(W_xh.T)
        concise.rnn.weight_hh_l0.copy_(W_hh.T)
        concise.rnn.bias_ih_l0.copy_(b_h)
        concise.rnn.bias_hh_l0.zero_()
        concise.linear.weight.copy_(W_hq.T)
        concise.linear.bias.copy_(b_q)
    X = torch.randint(0, V, (B, T))
    h0 = torch.randn(B, H)
    y_scratch, (h_scratch,) = scratch(X, (h0,))
    y_concise, h_concise = concise(X, h0[None])
    assert y_scratch.shape == y_concise.shape == (T * B, V)
    assert torch.allclose(y_scratch, y_concise, atol=1e-5)
    assert torch.allclose(h_scratch, h_concise[0], atol=1e-5)
    # Rows are time-major in both: row t * B + b predicts the token after X[b, t].
    y_first, _ = concise(X[:, :1], h0[None])
    assert torch.allclose(y_concise[:B], y_first, atol=1e-5)
