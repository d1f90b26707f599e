"""The site builds with warnings as errors (what `make site` publishes)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_site():
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return ROOT / "_build" / "html"


def test_site_builds_without_warnings(built_site):
    index = built_site / "index.html"
    assert index.is_file()
    assert "序列模型与循环神经网络" in index.read_text(encoding="utf-8")
