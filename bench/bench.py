"""Training speed of course_utils against d2l 0.17.6 (the books' reference), side by side.

    python bench/bench.py             # run, write bench/results.json + bench/results.md, print the table
    python bench/bench.py --render    # only rebuild bench/results.md from bench/results.json

Every row trains the same model twice, once with course_utils (models + train.train_epoch)
and once with d2l (RNNModelScratch / RNNModel + train_epoch_ch8), from the same initial
weights, on the same minibatches (same seed), with the same hyperparameters. d2l clips
gradients at theta=1 with no way to change it, so course_utils clips at 1 too.

Timing: the two implementations alternate epoch by epoch (and swap who goes first every
epoch), so a burst of load from other processes hits both alike; the first epoch is a
warm-up and is not timed; tokens/s is the median over the timed epochs.
"""
import argparse
import json
import os
import platform
import random
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository's tools/
from tools import reference, threads  # noqa: E402

if __name__ == "__main__":  # before torch loads: one process at a time, as for `make full`
    threads.apply(processes=1)

import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils import iterators, models, text, train  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 42
MODELS = ("RNN scratch", "nn.RNN", "GRU scratch", "nn.GRU", "LSTM scratch", "nn.LSTM")
CORPORA = ("time machine", "Jay lyrics")


def load_corpus(name, max_tokens):
    if name == "time machine":  # d2l.load_data_time_machine also keeps the first 10,000 tokens
        return text.load_corpus_time_machine(max_tokens)
    return text.load_corpus_jay_lyrics(max_tokens)


def build_pair(model, vocab_size, num_hiddens, lr, d2l):
    """(ours, ours_updater, ref, ref_updater), both starting from the same weights."""
    cpu = torch.device("cpu")
    if model.endswith("scratch"):
        get_params, init_state, ours_fn, book_fn = {
            "RNN scratch": (models.get_rnn_params, models.init_rnn_state, models.rnn, reference.book_rnn),
            "GRU scratch": (models.get_gru_params, models.init_gru_state, models.gru, reference.book_gru),
            "LSTM scratch": (models.get_lstm_params, models.init_lstm_state, models.lstm,
                             reference.book_lstm)}[model]
        ours = models.RNNModelScratch(vocab_size, num_hiddens, device=cpu, get_params=get_params,
                                      init_state=init_state, forward_fn=ours_fn)
        ref = d2l.RNNModelScratch(vocab_size, num_hiddens, cpu, get_params, init_state, book_fn)
        with torch.no_grad():
            for p, q in zip(ours.params, ref.params):
                q.copy_(p)
        # d2l's sgd divides by batch_size; train_epoch_ch8 passes 1 (its loss is a mean).
        return (ours, train.SGD(ours.params, lr), ref,
                lambda batch_size: d2l.sgd(ref.params, lr, batch_size))
    layer = {"nn.RNN": nn.RNN, "nn.GRU": nn.GRU, "nn.LSTM": nn.LSTM}[model]
    ours = models.RNNModel(layer(vocab_size, num_hiddens), vocab_size)
    ref = d2l.RNNModel(layer(vocab_size, num_hiddens), vocab_size)
    ref.load_state_dict(ours.state_dict())
    return (ours, torch.optim.SGD(ours.parameters(), lr), ref,
            torch.optim.SGD(ref.parameters(), lr))


class Counted:
    """Wraps a minibatch iterator and counts the predicted tokens it hands out."""

    def __init__(self, batches):
        self.batches, self.tokens = batches, 0
        self.use_random_iter = False  # sequential partitioning, as d2l's side gets

    def __iter__(self):
        for X, Y in self.batches:
            self.tokens += Y.numel()
            yield X, Y


def run_row(model, corpus_name, corpus, vocab_size, args, d2l):
    torch.manual_seed(SEED)
    ours, ours_upd, ref, ref_upd = build_pair(model, vocab_size, args.hiddens, args.lr, d2l)
    cpu = torch.device("cpu")
    loss = nn.CrossEntropyLoss()

    def epoch_ours(seed):
        random.seed(seed)  # both iterators draw their random offset from `random`
        batches = Counted(iterators.SeqDataLoader(corpus, args.batch_size, args.num_steps))
        ppl, _, _ = train.train_epoch(ours, batches, ours_upd, device=cpu, clip_theta=1.0)
        return ppl, batches.tokens

    def epoch_ref(seed):
        random.seed(seed)
        batches = Counted(d2l.seq_data_iter_sequential(corpus, args.batch_size, args.num_steps))
        ppl, _ = d2l.train_epoch_ch8(ref, batches, loss, ref_upd, cpu, False)
        return ppl, batches.tokens

    sides = {"course_utils": epoch_ours, "d2l": epoch_ref}
    seconds = {name: [] for name in sides}
    speeds = {name: [] for name in sides}
    ppl = {}
    for epoch in range(args.epochs):
        order = list(sides) if epoch % 2 == 0 else list(sides)[::-1]
        for name in order:
            start = time.perf_counter()
            ppl[name], tokens = sides[name](SEED + epoch)
            if epoch > 0:  # epoch 0 warms up allocator and caches: trained, not timed
                seconds[name].append(time.perf_counter() - start)
                speeds[name].append(tokens / seconds[name][-1])
    speed = {name: statistics.median(s) for name, s in speeds.items()}
    row = {"model": model, "corpus": corpus_name, "vocab": vocab_size,
           "tokens_per_epoch": tokens,
           "course_utils_tok_s": speed["course_utils"], "d2l_tok_s": speed["d2l"],
           "ratio": speed["course_utils"] / speed["d2l"],
           "course_utils_ppl": ppl["course_utils"], "d2l_ppl": ppl["d2l"],
           "course_utils_epoch_s": seconds["course_utils"], "d2l_epoch_s": seconds["d2l"]}
    print(f"{model:12s} {corpus_name:13s} V={vocab_size:5d}  "
          f"course_utils {row['course_utils_tok_s']:8.0f} tok/s  d2l {row['d2l_tok_s']:8.0f} tok/s  "
          f"ratio {row['ratio']:5.2f}  ppl {row['course_utils_ppl']:.2f} / {row['d2l_ppl']:.2f}",
          file=sys.stderr, flush=True)
    return row


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(args):
    if args.epochs < 2:
        raise ValueError(f"--epochs must be >= 2 (the first epoch is an untimed warm-up), got {args.epochs}")
    torch.set_num_threads(args.threads)
    d2l = reference.import_d2l()
    # d2l's Accumulator calls float() on the loss tensor; that warning is d2l's, not ours.
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True",
                            category=UserWarning)
    load_before, start = os.getloadavg(), time.perf_counter()
    rows = []
    for corpus_name in CORPORA:
        corpus, vocab = load_corpus(corpus_name, args.max_tokens)
        for model in MODELS:
            rows.append(run_row(model, corpus_name, corpus, len(vocab), args, d2l))
    return {
        "settings": {"epochs": args.epochs, "timed_epochs": args.epochs - 1,
                     "batch_size": args.batch_size, "num_steps": args.num_steps,
                     "num_hiddens": args.hiddens, "lr": args.lr, "clip_theta": 1.0,
                     "max_tokens": args.max_tokens, "iterator": "sequential", "seed": SEED},
        "machine": {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
                    "openmp_wait": threads.describe(),
                    "torch": torch.__version__, "d2l": d2l_version(), "python": platform.python_version(),
                    "load_average_before": round(load_before[0], 2),
                    "load_average_after": round(os.getloadavg()[0], 2)},
        "rows": rows,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "wall_s": round(time.perf_counter() - start, 1),
    }


def d2l_version():
    from importlib.metadata import version
    return version("d2l")


def render(results):
    """The Markdown table (and a line on how it was measured) of a results dict."""
    s, m = results["settings"], results["machine"]
    lines = ["| 模型 | 语料 | 词表 | 困惑度 course_utils / d2l "
             "| course_utils tok/s | d2l tok/s | course_utils / d2l |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in results["rows"]:
        lines.append(f"| {r['model']} | {r['corpus']} | {r['vocab']:,} "
                     f"| {r['course_utils_ppl']:.1f} / {r['d2l_ppl']:.1f} "
                     f"| {r['course_utils_tok_s']:,.0f} | {r['d2l_tok_s']:,.0f} | {r['ratio']:.2f} |")
    load = (m["load_average_before"], m["load_average_after"])
    if load[0] > 1.0:  # measured before the benchmark started working: other processes
        busy = (f"测量时这台机器同时运行着其他任务（1 分钟平均负载：开始 {load[0]:g}，结束 {load[1]:g}），"
                f"绝对速度只作参考；同一行的两种实现交替运行，比值比绝对速度可靠。")
    else:
        busy = f"测量时机器空闲（1 分钟平均负载：开始 {load[0]:g}，结束 {load[1]:g}）。"
    lines += ["",
              f"设置：每个语料取前 {s['max_tokens']:,} 个字符，批量大小 {s['batch_size']}，时间步数 "
              f"{s['num_steps']}，隐藏单元 {s['num_hiddens']}，学习率 {s['lr']:g}（SGD），梯度裁剪阈值 "
              f"{s['clip_theta']:g}，顺序分区，随机种子 {s['seed']}；每种实现训练 {s['epochs']} 个迭代周期，"
              f"困惑度是最后一个迭代周期的训练困惑度；第 1 个迭代周期用于预热、不计时，tok/s 是其余 "
              f"{s['timed_epochs']} 个迭代周期的中位数。",
              "",
              f"机器：{m['cpu']}，{m['cpu_count']} 个 CPU 核，torch {m['torch']}（{m['threads']} 个线程，"
              f"{m['openmp_wait']}），d2l {m['d2l']}，Python {m['python']}。{busy}"
              f"基准进程的峰值内存（RSS）：{results['peak_rss_mb']:,.0f} MB；总耗时 {results['wall_s']:,.0f} 秒。",
              ""]
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10, help="epochs per implementation and row (first is untimed)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(),
                   help="torch threads (default: torch's default here, %(default)s)")
    p.add_argument("--hiddens", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--num-steps", type=int, default=35)
    p.add_argument("--lr", type=float, default=1.0)
    p.add_argument("--max-tokens", type=int, default=10000)
    p.add_argument("--out", type=Path, default=HERE / "results.json")
    p.add_argument("--table", type=Path, default=HERE / "results.md")
    p.add_argument("--render", action="store_true", help="only rebuild --table from --out")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:
        results = json.loads(args.out.read_text(encoding="utf-8"))
    else:
        results = run(args)
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    table = render(results)
    args.table.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
