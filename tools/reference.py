"""Import d2l 0.17.6 (the books' reference implementation) for tests and benchmarks.

d2l imports torchvision at the top of d2l.torch, but uses it only for image datasets.
PyPI's torchvision does not work beside the CPU build of torch 2.13, so an empty stand-in
module is registered first when torchvision itself is not installed."""
import importlib.util
import sys
import types


def import_d2l():
    if "torchvision" not in sys.modules and importlib.util.find_spec("torchvision") is None:
        stub = types.ModuleType("torchvision")
        stub.transforms = types.ModuleType("torchvision.transforms")
        sys.modules["torchvision"] = stub
        sys.modules["torchvision.transforms"] = stub.transforms
    from d2l import torch as d2l
    return d2l


# The books' way of writing the scratch models, for d2l.RNNModelScratch (which one-hot
# encodes X before calling them): every step multiplies the one-hot input and computes its
# own output. d2l's package does not ship these (the books define them on the page), so
# tests and bench/ use these copies as the reference that course_utils.models is checked
# and timed against. Parameters: course_utils.models.get_rnn_params / get_gru_params /
# get_lstm_params.

def book_rnn(inputs, state, params):
    """inputs: (steps, batch, vocab) one-hot."""
    import torch
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        outputs.append(torch.mm(H, W_hq) + b_q)
    return torch.cat(outputs, dim=0), (H,)


def book_gru(inputs, state, params):
    import torch
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H,)


def book_lstm(inputs, state, params):
    import torch
    W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q = params
    H, C = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)
        F = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = F * C + I * C_tilda
        H = O * torch.tanh(C)
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H, C)
