"""How the number of torch threads and the way its OpenMP threads wait change training speed,
idle and under load (the measurements behind tools/threads.py).

    python bench/openmp_wait.py            # measure: bench/openmp_wait.json + bench/openmp_wait.md
    python bench/openmp_wait.py --render   # only rebuild the table from the JSON

Each measurement is a fresh Python process (libgomp reads its settings once, when torch
loads; the settings take turns, --repeats times) that trains chapter 5's scratch RNN on the first 10,000 lyrics characters for a few
epochs with 2 threads and reports seconds per epoch. "busy" runs it while two other
processes keep both cores busy (pure Python loops), like a shared machine or two test
workers. The benchmark page includes the table.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository's tools/
from tools.threads import SPINCOUNT, VARIABLES  # what `make full` uses; imports no torch  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SETTINGS = {  # label -> environment for the training process
    "2 线程，默认（空转约 30 万轮）": {"OMP_NUM_THREADS": "2"},
    "2 线程，`OMP_WAIT_POLICY=PASSIVE`（从不空转）": {"OMP_NUM_THREADS": "2",
                                                 "OMP_WAIT_POLICY": "PASSIVE"},
    f"2 线程，`GOMP_SPINCOUNT={SPINCOUNT}`（短空转）": {"OMP_NUM_THREADS": "2",
                                                   "GOMP_SPINCOUNT": SPINCOUNT},
    "1 线程（`OMP_NUM_THREADS=1`）": {"OMP_NUM_THREADS": "1"},
}
# One training run: prints the seconds of each epoch after the first (warm-up) as JSON.
TRAIN = """
import json, sys, time, torch
from course_utils import iterators, models, text, train
corpus, vocab = text.load_corpus_jay_lyrics(10000)
torch.manual_seed(0)
cpu = torch.device("cpu")
net = models.RNNModelScratch(len(vocab), 256, device=cpu, get_params=models.get_rnn_params,
                             init_state=models.init_rnn_state, forward_fn=models.rnn)
updater, loader, seconds = train.SGD(net.parameters(), 1.0), iterators.SeqDataLoader(corpus, 32, 35), []
for epoch in range(int(sys.argv[1]) + 1):
    start = time.perf_counter()
    train.train_epoch(net, loader, updater, device=cpu, clip_theta=1.0)
    seconds.append(time.perf_counter() - start)
print(json.dumps(seconds[1:]))
"""
BUSY = "while True: pass"


def measure(env_extra, epochs, busy):
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(env_extra)
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2 if busy else 0)]
    try:
        out = subprocess.run([sys.executable, "-c", TRAIN, str(epochs)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True, timeout=900)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    return json.loads(out.stdout.strip().splitlines()[-1])


def render(results):
    lines = ["| 线程设置 | 机器空闲 | 另有两个进程占满 CPU |", "|---|---:|---:|"]

    def cell(seconds):
        low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
        return f"{mid:.2f}（{low:.2f}–{high:.2f}）"
    for row in results["rows"]:
        lines.append(f"| {row['setting']} | {cell(row['idle'])} | {cell(row['busy'])} |")
    lines += ["", f"每格是第 5 章从零实现的 RNN（歌词前 10,000 字，256 个隐藏单元）每个迭代周期的秒数："
                  f"{results['repeats']} 个进程、每个 {results['epochs']} 个迭代周期的中位数"
                  f"（括号内为最小–最大；每个进程的第 1 个周期预热、不计；各种设置轮流运行）。"
                  f"机器：{results['cpu_count']} 个 CPU 核，torch {results['torch']}。", ""]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=6, help="timed epochs per training process")
    p.add_argument("--repeats", type=int, default=3, help="training processes per setting and load")
    p.add_argument("--out", type=Path, default=HERE / "openmp_wait.json")
    p.add_argument("--table", type=Path, default=HERE / "openmp_wait.md")
    p.add_argument("--render", action="store_true", help="only rebuild --table from --out")
    args = p.parse_args(argv)
    if args.render:
        results = json.loads(args.out.read_text(encoding="utf-8"))
    else:
        if args.epochs < 1 or args.repeats < 1:
            raise ValueError(f"--epochs and --repeats must be >= 1, got {args.epochs} and {args.repeats}")
        import torch
        rows = [{"setting": label, "env": env, "idle": [], "busy": []} for label, env in SETTINGS.items()]
        # Settings take turns, repeat after repeat, so that a burst of outside load does not
        # land on one setting only.
        for load in ("idle", "busy"):
            for _ in range(args.repeats):
                for row in rows:
                    row[load] += measure(row["env"], args.epochs, busy=load == "busy")
        for row in rows:
            print(f"{row['setting']}: median {statistics.median(row['idle']):.3f} s/epoch idle, "
                  f"{statistics.median(row['busy']):.3f} busy", file=sys.stderr)
        results = {"epochs": args.epochs, "repeats": args.repeats, "cpu_count": os.cpu_count(),
                   "torch": torch.__version__, "rows": rows}
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    args.table.write_text(render(results), encoding="utf-8")
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
