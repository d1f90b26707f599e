"""Execute the chapter notebooks (in full mode for the site) and check what they store.

    python -m course_utils.notebooks run chapters/*.ipynb      # COURSE_FULL=1, outputs stored
    python -m course_utils.notebooks check chapters/*.ipynb    # what the site will publish
"""
import json
import os
import sys
import time
from pathlib import Path

MAX_NOTEBOOK_BYTES = 3_000_000  # a page that heavy is slow on a phone: trim its outputs
FORBIDDEN_IN_OUTPUTS = ("/work/", "/home/", "/root/", "/tmp/", "C:\\")


def execute(path, full=True, timeout=3600):
    """Run a notebook top to bottom in a fresh kernel and store outputs and run metadata."""
    import nbformat
    import torch
    from nbclient import NotebookClient
    from . import config

    path = Path(path)
    os.environ["COURSE_FULL"] = "1" if full else "0"  # the kernel inherits this environment
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    nb.metadata["course"] = {
        "mode": config.mode(), "device": str(config.device()), "torch": torch.__version__,
        "wall_time_s": round(time.perf_counter() - start, 1), "cpu_count": os.cpu_count(),
    }
    nbformat.write(nb, path)
    return nb.metadata["course"]


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
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            for bad in FORBIDDEN_IN_OUTPUTS:
                if bad in text:
                    found.append(f"{path.name}: an output shows an absolute path ({bad}...)")
    if not any(c.get("outputs") for c in code):
        found.append(f"{path.name}: no stored outputs")
    if len(raw.encode()) > MAX_NOTEBOOK_BYTES:
        found.append(f"{path.name}: {len(raw.encode())} bytes, over {MAX_NOTEBOOK_BYTES}")
    return found


def main(argv):
    if len(argv) < 2 or argv[0] not in {"run", "check"}:
        print(__doc__)
        return 2
    if argv[0] == "check":
        issues = [msg for p in argv[1:] for msg in problems(p)]
        print("\n".join(issues) or f"{len(argv) - 1} notebooks OK")
        return 1 if issues else 0
    total = 0.0
    for p in argv[1:]:
        meta = execute(p)
        total += meta["wall_time_s"]
        print(f"{p}: {meta['wall_time_s']:.1f} s on {meta['device']} ({meta['mode']})", flush=True)
    print(f"total: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
