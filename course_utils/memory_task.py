"""第 7 章的合成记忆任务：序列的第一个符号要在 delay 个干扰符号之后说出来。
只有把信息在隐状态里保存 delay 步的模型才能答对；第 7、8 章用它比较 RNN、GRU 与 LSTM。"""
import torch
from torch import nn
from torch.nn import functional as F

from . import checks


def delay_batch(batch_size, delay, generator, num_symbols=4, num_noise=4):
    # 第 0 步是要记住的符号（0..3），之后 delay 步是随机的干扰符号（4..7）；标签是第 0 步的符号
    symbols = torch.randint(0, num_symbols, (batch_size,), generator=generator)
    noise = torch.randint(num_symbols, num_symbols + num_noise, (batch_size, delay),
                          generator=generator)
    return torch.cat([symbols[:, None], noise], dim=1), symbols


class DelayNet(nn.Module):
    """嵌入层 + 一层循环层 + 用最后一步的隐状态分类；比较时只换 layer_cls。"""
    def __init__(self, layer_cls, num_tokens=8, embed_size=16, num_hiddens=32, num_symbols=4):
        super().__init__()
        self.embedding = nn.Embedding(num_tokens, embed_size)
        self.rnn = layer_cls(embed_size, num_hiddens, batch_first=True)
        self.output = nn.Linear(num_hiddens, num_symbols)

    def forward(self, X):
        outputs, _ = self.rnn(self.embedding(X))
        return self.output(outputs[:, -1])


def train_delay(layer_cls, seed, delay, num_updates, lr=0.02, batch_size=64):
    """用 Adam 训练 num_updates 次，返回在 1000 条没见过的序列上的准确率（随机猜测是 1/4）。
    num_updates=0 给出未训练模型的准确率；delay=0 时要记住的符号就是最后一个输入。"""
    checks.nonnegative_int("delay", delay)
    checks.nonnegative_int("num_updates", num_updates)
    checks.positive_number("lr", lr)
    checks.positive_int("batch_size", batch_size)
    torch.manual_seed(seed)  # 初始参数
    data = torch.Generator().manual_seed(seed)  # 训练序列：同一个种子下两个模型看到的完全相同
    net = DelayNet(layer_cls)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(num_updates):
        X, y = delay_batch(batch_size, delay, data)
        loss = F.cross_entropy(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
    X, y = delay_batch(1000, delay, torch.Generator().manual_seed(10_000 + seed))  # 没见过的序列
    with torch.no_grad():
        return (net(X).argmax(dim=1) == y).float().mean().item()
