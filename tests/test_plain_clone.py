"""A student's clone: no ../shared beside it, a network. The README's commands go through the
Makefile, so what the Makefile exports decides whether the data can be read at all.

The clone is the repository's tracked files copied into an empty folder (its parent has no
shared/ folder); a local HTTP server stands in for the network, serving both data files
under the names of their canonical URLs."""
import functools
import http.server
import os
import sys
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from course_utils import data

ROOT = Path(__file__).resolve().parent.parent
PY = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin" / "python"

# Run inside `make` in the clone: print what the Makefile exported, then read both datasets
# through the course's own code, with the canonical URLs pointed at the local server.
PROBE = r"""
import os, sys
from course_utils import data, text
print("MIRROR", repr(os.environ.get("COURSE_DATA_MIRROR")))
for name, (url, *rest) in list(data.DATASETS.items()):
    data.DATASETS[name] = (sys.argv[1] + "/" + url.rsplit("/", 1)[1], *rest)
corpus, vocab = text.load_corpus_time_machine()
lyrics = text.read_jay_lyrics()
print("READ", len(corpus), len(vocab), len(lyrics))
"""


def tracked_copy(destination):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture
def network(tmp_path):
    """A local server holding both data files, as the canonical hosts do; counts requests."""
    folder = tmp_path / "served"
    folder.mkdir()
    for name, (url, fname, *_) in data.DATASETS.items():
        (folder / urlsplit(url).path.rsplit("/", 1)[1]).write_bytes(data.read_bytes(name))
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(shutil.which("make") is None or not PY.exists(),
                    reason="needs make and the project's virtual environment")
def test_a_clone_without_shared_data_downloads_through_the_makefile(tmp_path, network):
    url, requests = network
    clone = tracked_copy(tmp_path / "student" / "course")
    assert not (clone.parent.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    env["COURSE_DATA_DIR"] = str(tmp_path / "cache")
    (clone / "probe.py").write_text(PROBE, encoding="utf-8")
    proc = subprocess.run(
        ["make", "-s", f"VENV={PY.parent.parent}", "--eval",
         f"probe: ; @$(PY) probe.py {url}", "probe"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "MIRROR None" in proc.stdout, "a clone without ../shared must export no mirror"
    assert "READ" in proc.stdout and sorted(set(requests)) == [
        "/jaychou_lyrics.txt.zip", "/timemachine.txt"], (proc.stdout, requests)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_beside_shared_data_the_makefile_uses_it_and_a_set_mirror_wins(tmp_path):
    clone = tracked_copy(tmp_path / "course")
    (tmp_path / "shared" / "data").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    show = ["make", "-s", "--eval", "show: ; @echo \"[$$COURSE_DATA_MIRROR]\"", "show"]
    found = subprocess.run(show, cwd=clone, env=env, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == f"[{(tmp_path / 'shared' / 'data').resolve()}]"
    env["COURSE_DATA_MIRROR"] = "/somewhere/else"
    kept = subprocess.run(show, cwd=clone, env=env, capture_output=True, text=True, check=True)
    assert kept.stdout.strip() == "[/somewhere/else]"


FAKE_PYTHON = """#!/bin/sh
# stands in for the venv's Python: answers the Makefile's pip probe, prints what it was asked
if [ "$1 $2 $3" = "-m pip --version" ]; then echo "pip (fake)"; exit 0; fi
echo "RAN COURSE_FULL=[$COURSE_FULL] $*"
"""


@pytest.mark.skipif(shutil.which("make") is None or os.name != "posix", reason="needs make and sh")
@pytest.mark.parametrize("target", ["test", "unit", "notebooks"])
def test_course_full_left_in_the_shell_does_not_turn_the_tests_into_full_runs(tmp_path, target):
    clone = tracked_copy(tmp_path / "course")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    (venv / ".installed-stamp").touch()  # newer than the clone's requirements
    env = {**os.environ, "COURSE_FULL": "1"}
    proc = subprocess.run(["make", "-s", f"VENV={venv}", target], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ran = [line for line in proc.stdout.splitlines() if line.startswith("RAN ")]
    assert ran and all(line.startswith("RAN COURSE_FULL=[0] -m pytest") for line in ran), proc.stdout


@pytest.mark.skipif(shutil.which("make") is None or os.name != "posix", reason="needs make and sh")
@pytest.mark.parametrize("broken", ["without pip", "interrupted"])
def test_a_half_built_venv_is_detected_and_built_anew(tmp_path, broken):
    """`python -m venv` interrupted (a folder with no working Python) or a venv made without
    pip: `make venv` says so and starts it anew. The installs themselves are replaced by a
    no-op (PIP_INSTALL) to keep this test to seconds."""
    clone = tracked_copy(tmp_path / "course")
    venv = clone / ".venv"
    if broken == "without pip":
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    else:
        (venv / "bin").mkdir(parents=True)
        (venv / "pyvenv.cfg").write_text("home = /nowhere\n")
    proc = subprocess.run(["make", "venv", "PIP_INSTALL=: skipped install"], cwd=clone,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ".venv is incomplete" in proc.stdout and "building it anew" in proc.stdout
    assert subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--version"],
                          capture_output=True).returncode == 0
    assert (venv / ".installed-stamp").exists()
    again = subprocess.run(["make", "venv", "PIP_INSTALL=: skipped install"], cwd=clone,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "incomplete" not in again.stdout  # a sound venv is kept
