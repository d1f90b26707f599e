"""Execute the chapter notebooks (in full mode for the site) and check what they store.

    python -m tools.notebooks run chapters/*.ipynb      # COURSE_FULL=1, outputs stored
    python -m tools.notebooks time chapters/*.ipynb     # quick mode, nothing written
    python -m tools.notebooks check chapters/*.ipynb    # what the site will publish
    python -m tools.notebooks table chapters/*.ipynb    # Markdown table of the stored runs

`run` and `time` print each notebook's wall time and the total; a notebook that fails is
reported (and, for `run`, left unchanged) and the others still run.
"""
import importlib.metadata
import json
import os
import sys
import time
from pathlib import Path

from . import threads

MAX_NOTEBOOK_BYTES = 3_000_000  # a page that heavy is slow on a phone: trim its outputs
FORBIDDEN_IN_OUTPUTS = ("/work/", "/home/", "/root/", "/tmp/", "C:\\")


def execute(path, full=True, timeout=3600, write=True):
    """Run a notebook top to bottom in a fresh kernel; store outputs and run metadata
    (mode, device, torch version and threads, wall time) unless write=False."""
    import nbformat
    from nbclient import NotebookClient
    from course_utils import config

    path = Path(path)
    saved = dict(os.environ)
    os.environ["COURSE_FULL"] = "1" if full else "0"  # the kernel inherits this environment
    threads.apply(processes=1)  # one notebook at a time: all cores (tools/threads.py)
    try:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        meta = {
            "mode": "full" if config.is_full() else "quick", "device": str(config.device()),
            "torch": importlib.metadata.version("torch"),
            "wall_time_s": round(time.perf_counter() - start, 1), "cpu_count": os.cpu_count(),
            "threads": threads.describe(),
        }
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if write:
        nb.metadata["course"] = meta
        nbformat.write(nb, path)
    return meta


def problems(path):
    """What is wrong with a notebook's stored outputs, as a list of messages (empty: fine)."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    found = []
    meta = nb.get("metadata", {}).get("course", {})
    if meta.get("mode") != "full":
        found.append(f"{path.name}: outputs not from a full run (metadata course.mode="
                     f"{meta.get('mode')!r}); run `make full`")
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        found.append(f"{path.name}: execution counts {counts} are not 1..{len(code)} in order")
    for cell in code:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{path.name}: stored error {out.get('ename')}: {out.get('evalue')}")
            if out.get("name") == "stderr" and "Warning" in "".join(out.get("text", "")):
                line = next(l for l in "".join(out["text"]).splitlines() if "Warning" in l)
                found.append(f"{path.name}: a warning in the stored outputs (warnings are bugs): {line.strip()}")
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            for bad in FORBIDDEN_IN_OUTPUTS:
                if bad in text:
                    found.append(f"{path.name}: an output shows an absolute path ({bad}...)")
    if not any(c.get("outputs") for c in code):
        found.append(f"{path.name}: no stored outputs")
    if len(raw.encode()) > MAX_NOTEBOOK_BYTES:
        found.append(f"{path.name}: {len(raw.encode())} bytes, over {MAX_NOTEBOOK_BYTES}")
    return found


def timing_table(paths):
    """Markdown table of the runs stored in the notebooks' metadata: chapter, wall time, and
    how it ran (mode, device, threads, OpenMP waiting), with the total. Written by `make full`
    for the benchmark page."""
    rows, total = [], 0.0
    for path in paths:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        title = "".join(nb["cells"][0]["source"]).splitlines()[0].lstrip("# ").strip()
        meta = nb.get("metadata", {}).get("course", {})
        seconds = meta.get("wall_time_s")
        total += seconds or 0.0
        parts = [meta.get("mode"), meta.get("device"),
                 meta.get("cpu_count") and f"{meta['cpu_count']} 核",
                 meta.get("torch") and f"torch {meta['torch']}",
                 meta.get("threads")]
        how = "，".join(str(p) for p in parts if p)
        rows.append(f"| [{title}](chapters/{Path(path).name}) | "
                    f"{'—' if seconds is None else f'{seconds:.1f}'} | {how or '—'} |")
    return "\n".join(["| 章节 | 秒 | 运行方式 |", "|---|---:|---|", *rows,
                      f"| **合计** | **{total:.1f}**（{total / 60:.1f} 分钟） | |", ""])


def main(argv):
    if len(argv) < 2 or argv[0] not in {"run", "time", "check", "table"}:
        print(__doc__)
        return 2
    if argv[0] == "check":
        issues = [msg for p in argv[1:] for msg in problems(p)]
        print("\n".join(issues) or f"{len(argv) - 1} notebooks OK")
        return 1 if issues else 0
    if argv[0] == "table":
        print(timing_table(argv[1:]), end="")
        return 0
    full = argv[0] == "run"
    total, failed = 0.0, []
    for p in argv[1:]:
        try:
            meta = execute(p, full=full, write=full)
        except Exception as exc:  # a failing cell: report it, keep the stored notebook, go on
            failed.append(p)
            last = (str(exc).strip().splitlines() or [""])[-1]
            print(f"{p}: FAILED ({type(exc).__name__}: {last})", flush=True)
            continue
        total += meta["wall_time_s"]
        print(f"{p}: {meta['wall_time_s']:.1f} s on {meta['device']} ({meta['mode']}, "
              f"{meta['threads']})", flush=True)
    print(f"total: {total:.1f} s for {len(argv) - 1 - len(failed)} notebooks"
          + (f"; FAILED: {' '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
