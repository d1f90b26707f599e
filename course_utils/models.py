"""第 5–8 章的循环神经网络：从零实现（显式的参数列表）与基于 torch.nn 的简洁实现。

所有模型接收形状为（批量大小, 时间步数）的词元索引 X，返回形状为（时间步数 × 批量大小, 词表大小）
的输出：按时间步排列，第 t × 批量大小 + b 行预测 Y[b, t]，所以标签写成 Y.T.reshape(-1)。

从零实现按索引取出 W_x* 的行，代替独热向量的矩阵乘法（两者结果相同，第 5 章有验证），
输出层也在所有时间步算完之后一次算出。
"""
import torch
from torch import nn
from torch.nn import functional as F

from . import checks


def init_weight(shape, device):
    """权重：取自标准差为 0.01 的正态分布，要求梯度。"""
    return (torch.randn(shape, device=device) * 0.01).requires_grad_()


def init_bias(shape, device):
    """偏置：全 0，要求梯度。"""
    return torch.zeros(shape, device=device, requires_grad=True)


# --- RNN ----------------------------------------------------------------------------------

def get_rnn_params(vocab_size, num_hiddens, device):
    """RNN 的五个参数：权重取自标准差 0.01 的正态分布，偏置为 0，都要求梯度。"""
    checks.positive_int("vocab_size", vocab_size)
    checks.positive_int("num_hiddens", num_hiddens)
    W_xh = init_weight((vocab_size, num_hiddens), device)
    W_hh = init_weight((num_hiddens, num_hiddens), device)
    b_h = init_bias(num_hiddens, device)
    W_hq = init_weight((num_hiddens, vocab_size), device)
    b_q = init_bias(vocab_size, device)
    return [W_xh, W_hh, b_h, W_hq, b_q]


def init_rnn_state(batch_size, num_hiddens, device):
    """序列开始时的隐状态：全 0。返回只含一个张量的元组（LSTM 的状态有两个张量）。"""
    return (torch.zeros((batch_size, num_hiddens), device=device),)


def rnn(inputs, state, params):
    """inputs：（时间步数, 批量大小）的索引。
    H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)，O_t = H_t W_hq + b_q。"""
    W_xh, W_hh, b_h, W_hq, b_q = params
    XW = F.embedding(inputs, W_xh) + b_h  # 所有时间步的输入项一次取出：（时间步数, 批量大小, 隐藏单元数）
    H, = state
    Hs = []
    for xw in XW.unbind(0):  # 隐状态的递推只能一步一步地算
        H = torch.tanh(xw + H @ W_hh)
        Hs.append(H)
    Y = torch.stack(Hs).flatten(0, 1) @ W_hq + b_q  # 输出层对所有时间步一次算完
    return Y, (H,)


# --- GRU ----------------------------------------------------------------------------------

def gate_params(vocab_size, num_hiddens, device):
    """一个门（或候选状态）的一组参数：（输入权重, 隐状态权重, 偏置）；GRU 与 LSTM 共用。"""
    return (init_weight((vocab_size, num_hiddens), device),
            init_weight((num_hiddens, num_hiddens), device), init_bias(num_hiddens, device))


def get_gru_params(vocab_size, num_hiddens, device):
    """GRU 的参数：更新门、重置门、候选隐状态各有一组（输入权重, 隐状态权重, 偏置），再加输出层。"""
    checks.positive_int("vocab_size", vocab_size)
    checks.positive_int("num_hiddens", num_hiddens)
    W_xz, W_hz, b_z = gate_params(vocab_size, num_hiddens, device)  # 更新门
    W_xr, W_hr, b_r = gate_params(vocab_size, num_hiddens, device)  # 重置门
    W_xh, W_hh, b_h = gate_params(vocab_size, num_hiddens, device)  # 候选隐状态
    W_hq = init_weight((num_hiddens, vocab_size), device)
    b_q = init_bias(vocab_size, device)
    return [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]


init_gru_state = init_rnn_state


def gru(inputs, state, params, reset_after=False):
    """Z = σ(X W_xz + H W_hz + b_z)，R = σ(X W_xr + H W_hr + b_r)，
    H~ = tanh(X W_xh + (R ⊙ H) W_hh + b_h)，H = Z ⊙ H + (1 - Z) ⊙ H~。
    reset_after=True 时改用 R ⊙ (H W_hh)：nn.GRU（和 cuDNN）计算的就是这种写法。"""
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    h = W_hh.shape[0]
    # 一次取行，得到所有时间步上两个门和候选隐状态的输入项（连同偏置）
    XW = F.embedding(inputs, torch.cat([W_xz, W_xr, W_xh], 1)) + torch.cat([b_z, b_r, b_h])
    W_hzr = torch.cat([W_hz, W_hr], 1)  # 两个门的隐状态项合成一次矩阵乘法
    H, = state
    Hs = []
    for xw in XW.unbind(0):
        Z, R = torch.sigmoid(torch.addmm(xw[:, :2 * h], H, W_hzr)).chunk(2, dim=1)
        if reset_after:
            H_tilde = torch.tanh(xw[:, 2 * h:] + R * (H @ W_hh))
        else:
            H_tilde = torch.tanh(torch.addmm(xw[:, 2 * h:], R * H, W_hh))
        H = H_tilde + Z * (H - H_tilde)  # 即 Z ⊙ H + (1 - Z) ⊙ H~
        Hs.append(H)
    Y = torch.addmm(b_q, torch.stack(Hs).flatten(0, 1), W_hq)  # 输出层：所有时间步一次算完
    return Y, (H,)


# --- LSTM ---------------------------------------------------------------------------------

def get_lstm_params(vocab_size, num_hiddens, device):
    """LSTM 的参数：输入门、遗忘门、输出门、候选记忆元各有一组（输入权重, 隐状态权重, 偏置），
    再加输出层。"""
    checks.positive_int("vocab_size", vocab_size)
    checks.positive_int("num_hiddens", num_hiddens)
    W_xi, W_hi, b_i = gate_params(vocab_size, num_hiddens, device)  # 输入门
    W_xf, W_hf, b_f = gate_params(vocab_size, num_hiddens, device)  # 遗忘门
    W_xo, W_ho, b_o = gate_params(vocab_size, num_hiddens, device)  # 输出门
    W_xc, W_hc, b_c = gate_params(vocab_size, num_hiddens, device)  # 候选记忆元
    W_hq = init_weight((num_hiddens, vocab_size), device)
    b_q = init_bias(vocab_size, device)
    return [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q]


def init_lstm_state(batch_size, num_hiddens, device):
    """序列开始时的（隐状态 H, 记忆元 C）：都是 0。"""
    return (torch.zeros((batch_size, num_hiddens), device=device),
            torch.zeros((batch_size, num_hiddens), device=device))


def lstm(inputs, state, params):
    """I、F、O = σ(X W_x* + H W_h* + b_*)（输入门、遗忘门、输出门），C~ = tanh(X W_xc + H W_hc + b_c)，
    C = F ⊙ C + I ⊙ C~，H = O ⊙ tanh(C)。"""
    W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q = params
    h = W_hc.shape[0]
    # 一次取行，得到所有时间步上三个门和候选记忆元的输入项；隐状态项合成一次矩阵乘法
    XW = F.embedding(inputs, torch.cat([W_xi, W_xf, W_xo, W_xc], 1)) + torch.cat([b_i, b_f, b_o, b_c])
    W_h = torch.cat([W_hi, W_hf, W_ho, W_hc], 1)
    H, C = state
    Hs = []
    for xw in XW.unbind(0):
        pre = xw + H @ W_h
        input_gate, forget_gate, output_gate = torch.sigmoid(pre[:, :3 * h]).chunk(3, dim=1)
        C = forget_gate * C + input_gate * torch.tanh(pre[:, 3 * h:])
        H = output_gate * torch.tanh(C)
        Hs.append(H)
    Y = torch.stack(Hs).flatten(0, 1) @ W_hq + b_q
    return Y, (H, C)


# --- model wrappers -----------------------------------------------------------------------

class RNNModelScratch:
    """从零实现的模型：参数列表 + 初始化隐状态的函数 + 前向计算的函数。"""

    def __init__(self, vocab_size, num_hiddens, *, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        # X：（批量大小, 时间步数）；计算函数要的是时间步在前
        return self.forward_fn(X.T, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)

    def parameters(self):
        return self.params


class RNNModel(nn.Module):
    """包装 nn.RNN / nn.GRU / nn.LSTM：输入独热向量，输出经过一个全连接层。"""

    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        if rnn_layer.batch_first:  # forward 交给循环层的输入是时间步在前的
            raise ValueError("rnn_layer has batch_first=True, but RNNModel feeds it inputs of "
                             "shape (time steps, batch, features): build the layer without it")
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.num_directions = 2 if rnn_layer.bidirectional else 1
        self.linear = nn.Linear(rnn_layer.hidden_size * self.num_directions, vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)  # Y：（时间步数, 批量大小, 隐藏单元数 × 方向数）
        return self.linear(Y.reshape(-1, Y.shape[-1])), state

    def begin_state(self, batch_size, device):
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.rnn.hidden_size)
        if isinstance(self.rnn, nn.LSTM):
            return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))
        return torch.zeros(shape, device=device)


class EmbeddingRNNModel(RNNModel):
    """第 9 章的语言模型：嵌入层代替独热向量（嵌入维度就是循环层的 input_size），
    循环层的输入和输出上各有一层暂退（dropout）；评估与生成时暂退自动关闭。"""

    def __init__(self, rnn_layer, vocab_size, *, dropout=0.0):
        super().__init__(rnn_layer, vocab_size)
        if not 0 <= checks.probability("dropout", dropout) < 1:
            raise ValueError("dropout must be below 1 (1 would drop every value); use 0 for none")
        self.embedding = nn.Embedding(vocab_size, rnn_layer.input_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, inputs, state):
        X = self.dropout(self.embedding(inputs.T))  # （时间步数, 批量大小, 嵌入维度）
        Y, state = self.rnn(X, state)
        return self.linear(self.dropout(Y).reshape(-1, Y.shape[-1])), state


def count_parameters(net):
    """模型参数的总个数。"""
    return sum(p.numel() for p in net.parameters())
