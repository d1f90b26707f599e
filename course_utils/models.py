"""The recurrent models of chapters 5-7: from scratch (explicit parameters) and with torch.nn.

All models take X of shape (batch, steps) holding token indices and return logits of shape
(steps * batch, vocab): time-major rows, so row t*batch + b predicts Y[b, t] and the
labels are Y.T.reshape(-1).

The scratch models look up rows of W_x* instead of multiplying one-hot vectors: both give
the same numbers (chapter 5 shows it), but a lookup costs nothing while the one-hot product
is a (steps*batch, vocab) x (vocab, hidden) matrix multiply. They also apply the output
layer once to all time steps instead of once per step.
"""
import torch
from torch import nn
from torch.nn import functional as F


def _normal(shape, device):
    return (torch.randn(shape, device=device) * 0.01).requires_grad_()


def _zeros(shape, device):
    return torch.zeros(shape, device=device, requires_grad=True)


# --- RNN ----------------------------------------------------------------------------------

def get_rnn_params(vocab_size, num_hiddens, device):
    W_xh = _normal((vocab_size, num_hiddens), device)
    W_hh = _normal((num_hiddens, num_hiddens), device)
    b_h = _zeros(num_hiddens, device)
    W_hq = _normal((num_hiddens, vocab_size), device)
    b_q = _zeros(vocab_size, device)
    return [W_xh, W_hh, b_h, W_hq, b_q]


def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device),)


def rnn(inputs, state, params):
    """inputs: (steps, batch) indices. H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h), O_t = H_t W_hq + b_q."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    XW = F.embedding(inputs, W_xh) + b_h  # input term of every step at once: (steps, batch, hidden)
    H, = state
    Hs = []
    for xw in XW.unbind(0):  # the recurrence itself is sequential
        H = torch.tanh(xw + H @ W_hh)
        Hs.append(H)
    Y = torch.stack(Hs).flatten(0, 1) @ W_hq + b_q
    return Y, (H,)


# --- GRU ----------------------------------------------------------------------------------

def get_gru_params(vocab_size, num_hiddens, device):
    def three():
        return (_normal((vocab_size, num_hiddens), device),
                _normal((num_hiddens, num_hiddens), device), _zeros(num_hiddens, device))
    W_xz, W_hz, b_z = three()  # update gate
    W_xr, W_hr, b_r = three()  # reset gate
    W_xh, W_hh, b_h = three()  # candidate hidden state
    W_hq = _normal((num_hiddens, vocab_size), device)
    b_q = _zeros(vocab_size, device)
    return [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]


init_gru_state = init_rnn_state


def gru(inputs, state, params, reset_after=False):
    """Z = σ(X W_xz + H W_hz + b_z), R = σ(X W_xr + H W_hr + b_r),
    H~ = tanh(X W_xh + (R ⊙ H) W_hh + b_h), H = Z ⊙ H + (1 - Z) ⊙ H~.
    reset_after=True uses R ⊙ (H W_hh) instead, the variant that nn.GRU (and cuDNN) compute."""
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    h = W_hh.shape[0]
    # One lookup gives the input terms of both gates and the candidate for all steps.
    XW = F.embedding(inputs, torch.cat([W_xz, W_xr, W_xh], 1)) + torch.cat([b_z, b_r, b_h])
    W_hzr = torch.cat([W_hz, W_hr], 1)  # both gates' recurrent terms in one matmul per step
    H, = state
    Hs = []
    for xw in XW.unbind(0):
        Z, R = torch.sigmoid(xw[:, :2 * h] + H @ W_hzr).chunk(2, dim=1)
        recurrent = R * (H @ W_hh) if reset_after else (R * H) @ W_hh
        H_tilde = torch.tanh(xw[:, 2 * h:] + recurrent)
        H = Z * H + (1 - Z) * H_tilde
        Hs.append(H)
    Y = torch.stack(Hs).flatten(0, 1) @ W_hq + b_q
    return Y, (H,)


# --- model wrappers -----------------------------------------------------------------------

class RNNModelScratch:
    """A scratch model: explicit parameter list + state initialiser + step function."""

    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        return self.forward_fn(X.T, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)

    def parameters(self):
        return self.params


class RNNModel(nn.Module):
    """Wraps nn.RNN / nn.GRU / nn.LSTM: one-hot inputs in, a linear layer out."""

    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.num_directions = 2 if rnn_layer.bidirectional else 1
        self.linear = nn.Linear(rnn_layer.hidden_size * self.num_directions, vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)  # Y: (steps, batch, hidden * directions)
        return self.linear(Y.reshape(-1, Y.shape[-1])), state

    def begin_state(self, batch_size, device):
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.rnn.hidden_size)
        if isinstance(self.rnn, nn.LSTM):
            return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))
        return torch.zeros(shape, device=device)


def count_parameters(net):
    return sum(p.numel() for p in net.parameters())
