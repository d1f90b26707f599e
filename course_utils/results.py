"""Metrics written by a chapter's run and read back by later chapters (e.g. the chapter 7
table). Full runs write results/full/<name>.json, which is committed with the notebooks'
outputs; quick runs write results/quick/ (ignored by git)."""
import json
import os
import tempfile
from pathlib import Path

from . import config

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def save(name, metrics, mode=None):
    """Write `metrics` (a JSON-able dict) atomically; returns the path."""
    folder = RESULTS_DIR / (mode or config.mode())
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(metrics, f, ensure_ascii=False, indent=1, sort_keys=True)
    os.replace(tmp, folder / f"{name}.json")
    return folder / f"{name}.json"


def load(name, mode="full"):
    path = RESULTS_DIR / mode / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no stored results {path}; run the chapter that writes "
                                f"{name!r} in {mode} mode first (full: `make full`).")
    return json.loads(path.read_text(encoding="utf-8"))
