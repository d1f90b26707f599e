"""How a student without make gets the course running, tried in fresh virtual environments:

1. README's plain-pip path (the one for Windows and macOS): python -m venv, pip install with
   the lock as constraints, then a chapter executed from the checkout;
2. a chapter opened alone (downloaded, or in Colab): the notebook copied into an empty folder,
   a fresh environment with only a Jupyter kernel, and the repository standing in for the
   public URL (a git+file:// URL of this checkout, at its committed state); the first cell
   must install course_utils (and the Chinese font) itself.

Slow (minutes: torch is installed twice), so not part of `make unit`; `make test` runs them.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, path)
"""


def fresh_venv(folder):
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    return folder / ("Scripts" if os.name == "nt" else "bin") / "python"


def pip(python, *args, env=None):
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def execute(python, notebook, workdir, env):
    proc = subprocess.run([str(python), "-c", RUNNER, str(notebook), str(workdir)],
                          capture_output=True, text=True, env=env, cwd=workdir, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    return cells


def clean_env(**extra):
    """The environment of a student's shell: no course variables of this test run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COURSE_", "PYTEST_", "VIRTUAL_ENV")) and k != "PYTHONPATH"}
    env["COURSE_DATA_MIRROR"] = os.environ.get("COURSE_DATA_MIRROR", "")
    if not env["COURSE_DATA_MIRROR"]:
        del env["COURSE_DATA_MIRROR"]
    env.update(extra)
    return env


def test_readme_plain_pip_path_runs_a_chapter(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = 'python -m pip install -c requirements.lock -e ".[lab]"'
    assert command in readme, "the test must run what README tells students"
    python = fresh_venv(tmp_path / "venv")
    pip(python, "-c", str(LOCK), "-e", ".[lab]")
    # JupyterLab renders the MyST in the pages (folded answers) only if it accepts the extension
    listed = subprocess.run([str(python), "-m", "jupyter", "labextension", "list"],
                            capture_output=True, text=True, env=clean_env(NO_COLOR="1"))
    extensions = listed.stdout + listed.stderr
    assert "jupyterlab-myst" in extensions and "not compatible" not in extensions, extensions
    notebook = tmp_path / "02_text_preprocessing.ipynb"
    shutil.copy(ROOT / "chapters" / notebook.name, notebook)
    cells = execute(python, notebook, ROOT / "chapters", clean_env())
    text = json.dumps(cells, ensure_ascii=False)
    assert "快速运行" in text and "1027 个不同字符" in text


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git for a git+file:// URL")
def test_a_chapter_opened_alone_installs_what_it_needs(tmp_path):
    python = fresh_venv(tmp_path / "venv")
    # A kernel and nothing of the course, as in Colab or a plain Jupyter; the lock keeps
    # pip from choosing another (multi-GB) torch while the first cell installs the course.
    env = clean_env(PIP_CONSTRAINT=str(LOCK), COURSE_REPO_URL=ROOT.as_uri())
    pip(python, "ipykernel", "nbclient", "nbformat", env=env)
    probe = subprocess.run([str(python), "-c", "import course_utils"], capture_output=True,
                           cwd=tmp_path)
    assert probe.returncode != 0  # really absent before the notebook runs
    alone = tmp_path / "alone"
    alone.mkdir()
    notebook = alone / "01_sequence_models.ipynb"
    shutil.copy(ROOT / "chapters" / notebook.name, notebook)
    cells = execute(python, notebook, alone, env)
    images = [o for c in cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the chapter drew its figures"
    stderr = [o for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not any("Glyph" in "".join(o["text"]) for o in stderr), "Chinese font missing"
    installed = subprocess.run([str(python), "-c", "import course_utils, pylopdf_fonts_zh_cn"],
                               capture_output=True, cwd=tmp_path)
    assert installed.returncode == 0
