"""Training language models: gradient clipping, one epoch, the loop, prediction, perplexity."""
import math
import time
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F


def grad_clipping(net, theta):
    """Rescale all gradients together so their global L2 norm is at most theta:
    g <- min(1, theta / ||g||) g. Returns the norm before clipping."""
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    norm = torch.sqrt(sum((g * g).sum() for g in grads))
    # A tensor factor instead of `if norm > theta`: no GPU->CPU sync at every step.
    factor = torch.clamp(theta / (norm + 1e-12), max=1.0)
    for g in grads:
        g.mul_(factor)
    return norm


class SGD:
    """Minibatch stochastic gradient descent, p <- p - lr * grad (the loss is already a mean)."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    @torch.no_grad()
    def step(self):
        for p in self.params:
            p -= self.lr * p.grad

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def perplexity(logits, targets):
    """exp of the mean cross-entropy of the predictions `logits` for `targets`."""
    return math.exp(F.cross_entropy(logits, targets).item())


def detach_state(state):
    """Cut the graph behind the hidden state (sequential partitioning keeps the values)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def train_epoch(net, train_iter, updater, device, use_random_iter, clip_theta=1.0):
    """One pass over the data; returns (perplexity, tokens per second)."""
    state, loss_sum, num_tokens = None, torch.zeros((), device=device), 0
    start = time.perf_counter()
    for X, Y in train_iter:
        if state is None or use_random_iter:
            # Random sampling: this minibatch does not continue the last one.
            state = net.begin_state(X.shape[0], device)
        else:
            state = detach_state(state)
        X, y = X.to(device), Y.T.reshape(-1).to(device)
        y_hat, state = net(X, state)
        loss = F.cross_entropy(y_hat, y)
        updater.zero_grad()
        loss.backward()
        grad_clipping(net, clip_theta)
        updater.step()
        loss_sum += loss.detach() * y.numel()
        num_tokens += y.numel()
    seconds = time.perf_counter() - start
    return math.exp(loss_sum.item() / num_tokens), num_tokens / seconds


@torch.no_grad()
def predict(prefix, num_preds, net, vocab, device, temperature=0.0, generator=None):
    """Continue `prefix` by `num_preds` tokens: warm the state up on the prefix, then feed
    each prediction back in. temperature 0 picks the most likely token; > 0 samples from
    softmax(logits / temperature)."""
    if num_preds < 0:
        raise ValueError(f"num_preds must be >= 0, got {num_preds}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    tokens = list(prefix)
    if not tokens:
        raise ValueError("the prefix is empty; give at least one character to start from")
    missing = vocab.unknown(tokens)
    if missing:
        raise ValueError(f"prefix {prefix!r} has characters outside the vocabulary: {missing}. "
                         f"Use characters from the training text (vocab.idx_to_token).")
    state = net.begin_state(1, device)
    outputs = [vocab[tokens[0]]]
    for tok in tokens[1:]:  # warm-up: only the state matters, the outputs are known
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
def evaluate_perplexity(net, corpus, device, num_steps=35):
    """Perplexity on a held-out token sequence, read left to right with the state carried."""
    X = torch.tensor(corpus[:-1], device=device).reshape(1, -1)
    Y = torch.tensor(corpus[1:], device=device)
    state, nll = net.begin_state(1, device), 0.0
    for i in range(0, X.shape[1], num_steps):
        y_hat, state = net(X[:, i:i + num_steps], state)
        nll += F.cross_entropy(y_hat, Y[i:i + num_steps], reduction="sum").item()
    return math.exp(nll / Y.numel())


@dataclass
class History:
    epochs: list = field(default_factory=list)
    perplexity: list = field(default_factory=list)
    tokens_per_sec: list = field(default_factory=list)
    valid_epochs: list = field(default_factory=list)
    valid_perplexity: list = field(default_factory=list)
    samples: dict = field(default_factory=dict)
    train_seconds: float = 0.0  # time spent in train_epoch only (no prediction, no evaluation)

    def summary(self):
        out = {"epochs": self.epochs[-1], "train_perplexity": self.perplexity[-1],
               "tokens_per_sec": sum(self.tokens_per_sec) / len(self.tokens_per_sec),
               "seconds_per_epoch": self.train_seconds / len(self.epochs)}
        if self.valid_perplexity:
            out["valid_perplexity"] = self.valid_perplexity[-1]
        return out


def train(net, train_iter, vocab, updater, num_epochs, device, clip_theta=1.0,
          use_random_iter=False, prefixes=(), pred_period=10, pred_len=50,
          valid_corpus=None, log=print):
    """Train for num_epochs; every pred_period epochs (and at the end) log the perplexity,
    the speed, the held-out perplexity and a continuation of each prefix."""
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be >= 1, got {num_epochs}")
    history = History()
    for epoch in range(1, num_epochs + 1):
        start = time.perf_counter()
        ppl, speed = train_epoch(net, train_iter, updater, device, use_random_iter, clip_theta)
        history.train_seconds += time.perf_counter() - start
        history.epochs.append(epoch)
        history.perplexity.append(ppl)
        history.tokens_per_sec.append(speed)
        if epoch % pred_period == 0 or epoch == num_epochs:
            line = f"epoch {epoch:4d}  perplexity {ppl:8.2f}  {speed:8.0f} tokens/s"
            if valid_corpus is not None:
                valid = evaluate_perplexity(net, valid_corpus, device)
                history.valid_epochs.append(epoch)
                history.valid_perplexity.append(valid)
                line += f"  held-out perplexity {valid:8.2f}"
            history.samples[epoch] = [predict(p, pred_len, net, vocab, device) for p in prefixes]
            if log:
                log(line)
                for text in history.samples[epoch]:
                    log(f"    {text}")
    return history
