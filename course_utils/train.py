"""训练语言模型：梯度裁剪、一个迭代周期、训练循环、预测与困惑度（第 4、5 章讲授这些代码）。"""
import contextlib
import math
import time
from dataclasses import dataclass, field

import torch
from fastprogress.fastprogress import IN_NOTEBOOK, progress_bar
from torch.nn import functional as F

from . import checks


def grad_clipping(net, theta):
    """把全部梯度看成一个向量 g，整体缩放使它的 L2 范数不超过 theta：
    g <- min(1, theta / ||g||) g。返回裁剪前的范数。"""
    checks.positive_number("theta", theta, hint=" (a threshold <= 0 would reverse or zero "
                           "the gradient)")
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    if not grads:
        raise ValueError("no parameter has a gradient yet: call loss.backward() before "
                         "grad_clipping")
    norm = torch.sqrt(sum((g * g).sum() for g in grads))
    # 用张量系数代替 `if norm > theta`：在 GPU 上不必每一步都等结果传回 CPU
    factor = torch.clamp(theta / (norm + 1e-12), max=1.0)
    for g in grads:
        g.mul_(factor)
    return norm


class SGD:
    """小批量随机梯度下降 p <- p - lr * grad（损失已经是小批量上的平均值）。"""

    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = checks.positive_number("lr", lr)

    @torch.no_grad()
    def step(self):
        for p in self.params:
            p -= self.lr * p.grad

    def zero_grad(self):
        for p in self.params:
            p.grad = None


@contextlib.contextmanager
def evaluating(net):
    """评估与生成时关掉 dropout 等只在训练时起作用的层（nn.Module.eval()），结束后恢复原来的模式。
    从零实现的模型没有这样的层，不受影响。"""
    was_training = getattr(net, "training", None)
    if was_training is None:
        yield net
        return
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)


def exp_or_inf(x):
    """math.exp，但发散时给出无穷大而不是 OverflowError。"""
    return math.exp(x) if x < 700 else math.inf


def format_perplexity(ppl):
    """困惑度的显示：发散的训练不打印一个几十位的数。"""
    return f"{ppl:.2f}" if ppl <= 1e30 else "发散 (> 1e30)"


def perplexity(logits, targets):
    """预测 logits 对标签 targets 的平均交叉熵取指数。"""
    return math.exp(F.cross_entropy(logits, targets).item())


def detach_state(state):
    """切断隐状态身后的计算图：值保留，之前的计算不再参与求导。"""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def train_epoch(net, train_iter, updater, *, device, clip_theta):
    """训练一个迭代周期，返回（训练困惑度, 每秒处理的词元数, 裁剪前梯度范数的中位数）。
    随机采样（train_iter.use_random_iter）时每个小批量都重新初始化隐状态。"""
    state, loss_sum, num_tokens, norms = None, torch.zeros((), device=device), 0, []
    if isinstance(net, torch.nn.Module):
        net.train()  # dropout 只在训练时起作用
    start = time.perf_counter()
    for X, Y in train_iter:
        if state is None or train_iter.use_random_iter:
            state = net.begin_state(X.shape[0], device)  # 这个小批量不接着上一个
        else:
            state = detach_state(state)  # 顺序分区：接着用，但只对本小批量求导
        X, y = X.to(device), Y.T.reshape(-1).to(device)
        y_hat, state = net(X, state)
        loss = F.cross_entropy(y_hat, y)
        updater.zero_grad()
        loss.backward()
        norms.append(grad_clipping(net, clip_theta))
        updater.step()
        loss_sum += loss.detach() * y.numel()
        num_tokens += y.numel()
    if not norms:
        raise ValueError("train_iter gave no minibatches: give a loader such as SeqDataLoader")
    seconds = time.perf_counter() - start
    grad_norm = torch.stack(norms).median().item()
    return exp_or_inf(loss_sum.item() / num_tokens), num_tokens / seconds, grad_norm


def check_prefix(prefix, vocab):
    """前缀非空，而且每个字都在词表里；返回前缀的词元列表。"""
    return checks.prefix(prefix, vocab)


@torch.no_grad()
def predict(prefix, num_preds, net, vocab, *, device, temperature=0.0, generator=None):
    """接着 prefix 写 num_preds 个词元：先用前缀预热隐状态，再把每一步的预测喂回去。
    temperature 为 0 时选概率最大的词元；不小于 1e-4 时从 softmax(logits / temperature) 中抽样。
    num_preds 为 0 时只返回前缀。"""
    checks.nonnegative_int("num_preds", num_preds)
    checks.temperature("temperature", temperature)
    checks.net_and_device(net, len(vocab), device)
    tokens = check_prefix(prefix, vocab)
    with evaluating(net):
        state = net.begin_state(1, device)
        outputs = [vocab[tokens[0]]]
        for tok in tokens[1:]:  # 预热：只需要隐状态，输出是已知的
            _, state = net(torch.tensor([[outputs[-1]]], device=device), state)
            outputs.append(vocab[tok])
        for _ in range(num_preds):
            y, state = net(torch.tensor([[outputs[-1]]], device=device), state)
            if temperature == 0:
                outputs.append(int(y.argmax(dim=1)))
            else:
                probs = F.softmax(y / temperature, dim=1)
                outputs.append(int(torch.multinomial(probs, 1, generator=generator)))
    return "".join(vocab.to_tokens(outputs))


@torch.no_grad()
def evaluate_perplexity(net, corpus, *, device, num_steps=35, batch_size=1, ignore_index=None):
    """一段文本上的困惑度：从左到右读，隐状态一路传下去，每 num_steps 步算一次。
    等于 ignore_index（例如 vocab.unk）的标签不计入平均。batch_size > 1 时把文本切成
    batch_size 段同时读（只有每段的开头从零状态开始），长文本上快得多。"""
    checks.positive_int("num_steps", num_steps)
    checks.positive_int("batch_size", batch_size)
    checks.device("device", device)
    checks.token_ids("corpus", corpus, getattr(net, "vocab_size", None), min_len=batch_size + 1)
    if ignore_index is not None:
        checks.nonnegative_int("ignore_index", ignore_index)
    num_tokens = (len(corpus) - 1) // batch_size * batch_size  # 末尾凑不满一行的几个字不计
    X = torch.tensor(corpus[:num_tokens], device=device).reshape(batch_size, -1)
    Y = torch.tensor(corpus[1:num_tokens + 1], device=device).reshape(batch_size, -1)
    skip = -100 if ignore_index is None else ignore_index  # -100：cross_entropy 的“不忽略”
    state, nll = net.begin_state(batch_size, device), 0.0
    with evaluating(net):
        for i in range(0, X.shape[1], num_steps):
            y_hat, state = net(X[:, i:i + num_steps], state)
            nll += F.cross_entropy(y_hat, Y[:, i:i + num_steps].T.reshape(-1), reduction="sum",
                                   ignore_index=skip).item()
    count = int((Y != skip).sum())
    if count == 0:
        raise ValueError(f"every target equals ignore_index={ignore_index}: nothing to score")
    return exp_or_inf(nll / count)


def copy_params(net):
    """模型参数的一份拷贝（之后用 load_params 恢复）。"""
    return [p.detach().clone() for p in net.parameters()]


@torch.no_grad()
def load_params(net, params):
    """把 copy_params 得到的参数值写回模型。"""
    for p, saved in zip(net.parameters(), params, strict=True):
        p.copy_(saved)


@dataclass
class History:
    """一次训练的记录。best_epoch 是验证困惑度最低的迭代周期（只在验证文本上选择），
    best_params 是那时模型参数的拷贝。"""
    epochs: list = field(default_factory=list)
    perplexity: list = field(default_factory=list)
    tokens_per_sec: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)  # 每个周期裁剪前梯度范数的中位数
    valid_epochs: list = field(default_factory=list)
    valid_perplexity: list = field(default_factory=list)
    samples: dict = field(default_factory=dict)
    train_seconds: float = 0.0  # 只计 train_epoch 的时间（不含预测和验证）
    best_epoch: int = None
    best_params: list = None

    def record(self, epoch, ppl, speed, grad_norm, seconds):
        self.epochs.append(epoch)
        self.perplexity.append(ppl)
        self.tokens_per_sec.append(speed)
        self.grad_norms.append(grad_norm)
        self.train_seconds += seconds

    def record_valid(self, epoch, net, ppl):
        if not self.valid_perplexity or ppl < min(self.valid_perplexity):
            self.best_epoch, self.best_params = epoch, copy_params(net)
        self.valid_epochs.append(epoch)
        self.valid_perplexity.append(ppl)

    def stalled(self, patience):
        """早停：最近 patience 次验证都没有创下新低时为 True（patience 为 None 时永远是 False）。"""
        if patience is None or not self.valid_epochs:
            return False
        return len(self.valid_epochs) - 1 - self.valid_epochs.index(self.best_epoch) >= patience

    def log(self, epoch, log):
        line = f"epoch {epoch:4d}  困惑度 {format_perplexity(self.perplexity[-1]):>8}  " \
               f"{self.tokens_per_sec[-1]:7.0f} 词元/秒"
        if self.valid_epochs and self.valid_epochs[-1] == epoch:
            line += f"  验证困惑度 {format_perplexity(self.valid_perplexity[-1]):>8}"
        log(line)
        for text in self.samples.get(epoch, []):
            log(f"    {text}")

    def summary(self):
        if not self.epochs:
            raise ValueError("this History has no epochs yet: train first")
        out = {"epochs": self.epochs[-1], "train_perplexity": self.perplexity[-1],
               "tokens_per_sec": sum(self.tokens_per_sec) / len(self.tokens_per_sec),
               "seconds_per_epoch": self.train_seconds / len(self.epochs)}
        if self.valid_perplexity:
            out.update(valid_perplexity=self.valid_perplexity[-1], best_epoch=self.best_epoch,
                       best_valid_perplexity=min(self.valid_perplexity))
        return out


def train(net, train_iter, vocab, updater, num_epochs, *, device, clip_theta, prefixes=(),
          pred_period=10, pred_len=50, valid_corpus=None, valid_period=None, valid_batch_size=1,
          ignore_index=None, patience=None, log=print, progress=None):
    """训练至多 num_epochs 个周期，返回 History；每 valid_period 个周期验证，连续 patience 次没有新低就早停。"""
    valid_period = checks.training(  # 训练之前检查全部参数，而不是训练了几个周期之后才发现
        net, train_iter, vocab, updater, num_epochs, device=device, clip_theta=clip_theta,
        prefixes=prefixes, pred_period=pred_period, pred_len=pred_len, valid_corpus=valid_corpus,
        valid_period=valid_period, valid_batch_size=valid_batch_size, ignore_index=ignore_index,
        patience=patience, log=log, progress=progress)
    history, epochs = History(), range(1, num_epochs + 1)
    bar = progress_bar(epochs) if (IN_NOTEBOOK if progress is None else progress) else None
    for epoch in bar or epochs:
        start = time.perf_counter()
        ppl, speed, grad_norm = train_epoch(net, train_iter, updater, device=device,
                                            clip_theta=clip_theta)
        history.record(epoch, ppl, speed, grad_norm, time.perf_counter() - start)
        if valid_corpus is not None and (epoch % valid_period == 0 or epoch == num_epochs):
            history.record_valid(epoch, net, evaluate_perplexity(
                net, valid_corpus, device=device, batch_size=valid_batch_size,
                ignore_index=ignore_index))
        if bar:
            bar.comment = f"困惑度 {format_perplexity(ppl)}"
        if epoch % pred_period == 0 or epoch == num_epochs or history.stalled(patience):
            history.samples[epoch] = [predict(p, pred_len, net, vocab, device=device)
                                      for p in prefixes]
            if log:
                history.log(epoch, log)
        if history.stalled(patience):
            break
    return history
