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
def evaluate_perplexity(net, corpus, device, num_steps=35, ignore_index=None):
    """Perplexity on a held-out token sequence, read left to right with the state carried.
    Targets equal to `ignore_index` (e.g. vocab.unk) are left out of the mean."""
    if len(corpus) < 2:
        raise ValueError(f"need at least 2 tokens to score a prediction, got {len(corpus)}")
    X = torch.tensor(corpus[:-1], device=device).reshape(1, -1)
    Y = torch.tensor(corpus[1:], device=device)
    skip = -100 if ignore_index is None else ignore_index  # -100: cross_entropy's "none"
    state, nll = net.begin_state(1, device), 0.0
    for i in range(0, X.shape[1], num_steps):
        y_hat, state = net(X[:, i:i + num_steps], state)
        nll += F.cross_entropy(y_hat, Y[i:i + num_steps], reduction="sum",
                               ignore_index=skip).item()
    count = int((Y != skip).sum())
    if count == 0:
        raise ValueError(f"every target equals ignore_index={ignore_index}: nothing to score")
    return math.exp(nll / count)


def _in_jupyter():
    """True inside a Jupyter kernel (where an output can be updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _display_handle(bundle):
    """Show a mime bundle as an output that can be updated later (a DisplayHandle)."""
    from IPython.display import display
    return display(bundle, raw=True, display_id=True)


class Progress:
    """A progress bar that updates in place inside Jupyter, once per epoch.

    nbclient stores the last update, so the page on the site shows the finished bar with the
    final numbers rather than 250 lines. Outside Jupyter (terminal, pytest) it shows nothing:
    the periodic log lines of `train` are the progress there."""

    def __init__(self, num_epochs, enabled=None):
        self.num_epochs, self.start = num_epochs, time.perf_counter()
        self.handle = None
        if _in_jupyter() if enabled is None else enabled:
            self.handle = _display_handle(self.bundle(0, None))

    def text(self, epoch, ppl):
        seconds = time.perf_counter() - self.start
        line = f"epoch {epoch}/{self.num_epochs}"
        if ppl is not None:
            line += f"  困惑度 {ppl:.2f}"
        return line + f"  已用 {seconds:.0f} 秒" + ("  完成" if epoch == self.num_epochs else "")

    def bundle(self, epoch, ppl):
        text = self.text(epoch, ppl)
        html = (f'<progress value="{epoch}" max="{self.num_epochs}" style="width: 40%"></progress> '
                f"<code>{text}</code>")
        return {"text/plain": text, "text/html": html}

    def update(self, epoch, ppl):
        if self.handle is not None:
            self.handle.update(self.bundle(epoch, ppl), raw=True)


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
            best = min(range(len(self.valid_perplexity)), key=self.valid_perplexity.__getitem__)
            out["best_valid_perplexity"] = self.valid_perplexity[best]
            out["best_valid_epoch"] = self.valid_epochs[best]
        return out


def train(net, train_iter, vocab, updater, num_epochs, device, clip_theta=1.0,
          use_random_iter=False, prefixes=(), pred_period=10, pred_len=50,
          valid_corpus=None, valid_period=None, valid_ignore_index=None, log=print,
          progress=None):
    """Train for num_epochs. Every pred_period epochs (and at the end) log the perplexity,
    the speed and a continuation of each prefix; every valid_period epochs (default:
    pred_period, and at the end) measure the held-out perplexity of `valid_corpus`.
    progress: None shows a live progress bar only inside Jupyter; True/False force it."""
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be >= 1, got {num_epochs}")
    if pred_period < 1 or (valid_period is not None and valid_period < 1):
        raise ValueError(f"pred_period and valid_period must be >= 1, got {pred_period} "
                         f"and {valid_period}")
    valid_period = valid_period or pred_period
    history, bar = History(), Progress(num_epochs, progress)
    for epoch in range(1, num_epochs + 1):
        start = time.perf_counter()
        ppl, speed = train_epoch(net, train_iter, updater, device, use_random_iter, clip_theta)
        history.train_seconds += time.perf_counter() - start
        history.epochs.append(epoch)
        history.perplexity.append(ppl)
        history.tokens_per_sec.append(speed)
        last = epoch == num_epochs
        if valid_corpus is not None and (epoch % valid_period == 0 or last):
            history.valid_epochs.append(epoch)
            history.valid_perplexity.append(
                evaluate_perplexity(net, valid_corpus, device, ignore_index=valid_ignore_index))
        bar.update(epoch, ppl)
        if epoch % pred_period == 0 or last:
            line = f"epoch {epoch:4d}  困惑度 {ppl:8.2f}  {speed:7.0f} 词元/秒"
            if history.valid_epochs and history.valid_epochs[-1] == epoch:
                line += f"  留出困惑度 {history.valid_perplexity[-1]:8.2f}"
            history.samples[epoch] = [predict(p, pred_len, net, vocab, device) for p in prefixes]
            if log:
                log(line)
                for text in history.samples[epoch]:
                    log(f"    {text}")
    return history
