"""Execute the chapter notebooks (in full mode for the site) and check what they store.

    python -m tools.notebooks run chapters/*.ipynb      # COURSE_FULL=1, outputs stored
    python -m tools.notebooks time chapters/*.ipynb     # quick mode, nothing written
    python -m tools.notebooks check chapters/*.ipynb    # what the site will publish
    python -m tools.notebooks table chapters/*.ipynb    # Markdown table of the stored runs

`run` and `time` print each notebook's wall time and the total; a notebook that fails is
reported (and, for `run`, left unchanged, its results discarded) and the others still run.

Outputs that cannot go stale: `run` records in each notebook's metadata (course.sources) a
SHA-256 of its code cells, of every course_utils module it imports (with what those import
inside the package) and of every results file it read while it ran (course_utils.results
logs each load to the file named by COURSE_RESULTS_READS). `check` recomputes them and
names the page and what changed since its full run.

Results: while a page runs, results.save writes into a staging folder (COURSE_RESULTS_STAGING,
inside course_utils/full_results/); only when the whole page succeeded are its files moved
into place. The notebook itself is written to a temporary file beside it, fsynced and then
renamed over it: a full disk or a killed run never leaves a page half-written.
"""
import ast
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import threads

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
RESULTS_DIR = PACKAGE / "full_results"
MAX_NOTEBOOK_BYTES = 3_000_000  # a page that heavy is slow on a phone: trim its outputs
FORBIDDEN_IN_OUTPUTS = ("/work/", "/home/", "/root/", "/tmp/", "C:\\")
FULL_RUN_BUDGET_S = 180  # a page's full run on a 2-core CPU: what a student waits for one page
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def sha256(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode("utf-8")).hexdigest()


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def code_digest(nb):
    """One hash over the sources of the code cells, in order (prose and outputs excluded)."""
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in code_cells(nb)]
    return sha256(json.dumps(sources, ensure_ascii=False))


def _imports(source, package, current=None):
    """Modules of `package` that Python source imports (absolute or, inside the package,
    relative). Lines of IPython magics and shell escapes are skipped."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if current is None:
                    continue
                base = ".".join([package] + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == package:
                found.add(".".join(parts[:2]))
    return found


def imported_modules(nb, package_dir=PACKAGE):
    """Files of the package that the notebook's code runs: the modules its cells import, what
    those import inside the package, and the package's __init__.py; relative paths, sorted."""
    package_dir = Path(package_dir)
    name = package_dir.name
    todo = set()
    for cell in code_cells(nb):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        todo |= _imports(source, name)
    files, seen = set(), set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = package_dir / "__init__.py" if module == name else package_dir / f"{module.split('.')[1]}.py"
        if not path.is_file():  # a name imported from the package that is not a module
            path = package_dir / "__init__.py"
        files.add(path)
        todo |= _imports(path.read_text(encoding="utf-8"), name, current=module)
    if seen:
        files.add(package_dir / "__init__.py")
    return sorted(f"{name}/{path.relative_to(package_dir).as_posix()}" for path in files)


def sources_record(nb, reads, package_dir=PACKAGE, results_dir=RESULTS_DIR):
    """What produced a notebook's outputs: hashes of its code, its package modules and the
    results files it read (names as logged by results.load)."""
    package_dir, results_dir = Path(package_dir), Path(results_dir)
    modules = {rel: sha256((package_dir.parent / rel).read_bytes())
               for rel in imported_modules(nb, package_dir)}
    files = {f"{name}.json": sha256((results_dir / f"{name}.json").read_bytes())
             for name in sorted(set(reads))}
    return {"code": code_digest(nb), "modules": modules, "results": files}


def staleness(nb, name, package_dir=PACKAGE, results_dir=RESULTS_DIR):
    """Messages naming what changed since the page's full run (empty: its outputs are current)."""
    package_dir, results_dir = Path(package_dir), Path(results_dir)
    record = nb.get("metadata", {}).get("course", {}).get("sources")
    if not isinstance(record, dict):
        return [f"{name}: no record of the code, modules and results that produced its outputs "
                "(metadata course.sources); re-run it with `make full`"]
    changed = []
    if record.get("code") != code_digest(nb):
        changed.append("its code cells")
    for rel, digest in sorted(record.get("modules", {}).items()):
        path = package_dir.parent / rel
        if not path.is_file() or sha256(path.read_bytes()) != digest:
            changed.append(rel)
    for file, digest in sorted(record.get("results", {}).items()):
        path = results_dir / file
        if not path.is_file() or sha256(path.read_bytes()) != digest:
            changed.append(f"results {file}")
    if not changed:
        return []
    return [f"{name}: stored outputs are stale: {', '.join(changed)} changed since its full run; "
            "re-run it with `make full`"]


def write_notebook(path, nb):
    """Write a notebook atomically: a temporary file beside it, fsync, rename over it (keeping
    its permissions). On any failure (a full disk) the page is left as it was, no temp behind."""
    import nbformat
    path = Path(path)
    data = (nbformat.writes(nb) + "\n").encode("utf-8")
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _clean_stale_staging(results_dir):
    """Staging folders of executors that were killed (their process is gone)."""
    for folder in Path(results_dir).glob(".staging-*"):
        match = re.match(r"\.staging-(\d+)-", folder.name)
        if match:
            try:
                os.kill(int(match.group(1)), 0)
                continue
            except ProcessLookupError:
                pass
            except OSError:
                continue
        shutil.rmtree(folder, ignore_errors=True)


def execute(path, full=True, timeout=3600, write=True, results_dir=None, package_dir=PACKAGE):
    """Run a notebook top to bottom in a fresh kernel; store outputs and run metadata
    (mode, device, torch version and threads, wall time, and in full mode what produced the
    outputs) unless write=False. Results the page saves are moved into results_dir (default
    course_utils/full_results) only if every cell succeeded; a failing page changes nothing."""
    import nbformat
    from nbclient import NotebookClient
    from course_utils import config

    path = Path(path)
    results_dir = Path(results_dir or RESULTS_DIR)
    results_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale_staging(results_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=results_dir))
    reads = staging / "reads.log"
    saved = dict(os.environ)
    os.environ["COURSE_FULL"] = "1" if full else "0"  # the kernel inherits this environment
    os.environ["COURSE_RESULTS_STAGING"] = str(staging)
    os.environ["COURSE_RESULTS_READS"] = str(reads)
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
        if write and full:
            for staged in sorted(staging.glob("*.json")):
                os.replace(staged, results_dir / staged.name)
            names = reads.read_text(encoding="utf-8").split() if reads.exists() else []
            meta["sources"] = sources_record(nb, names, package_dir, results_dir)
        if write:
            nb.metadata["course"] = meta
            write_notebook(path, nb)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(staging, ignore_errors=True)
    return meta


def problems(path, package_dir=PACKAGE, results_dir=RESULTS_DIR):
    """What is wrong with a notebook's stored outputs, as a list of messages (empty: fine):
    not from a full run, stale (code, modules or results changed since), a full run on the CPU
    over the time budget, errors, warnings, absolute paths, counts out of order, too heavy."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    found = []
    meta = nb.get("metadata", {}).get("course", {})
    if meta.get("mode") != "full":
        found.append(f"{path.name}: outputs not from a full run (metadata course.mode="
                     f"{meta.get('mode')!r}); run `make full`")
    else:
        found += staleness(nb, path.name, package_dir, results_dir)
        seconds = meta.get("wall_time_s")
        if meta.get("device") == "cpu" and seconds is not None and seconds > FULL_RUN_BUDGET_S:
            found.append(f"{path.name}: its full run took {seconds:.0f} s on the CPU, over the "
                         f"{FULL_RUN_BUDGET_S} s budget; train less on this page or split it")
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
            last = (ANSI.sub("", str(exc)).strip().splitlines() or [""])[-1]
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
