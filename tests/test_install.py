"""How a reader without the repository's tooling gets the course running, in ONE fresh virtual
environment (torch is installed once), step by step as the reader meets it:

1. a plain Jupyter (only a kernel, as in Colab) and a chapter's bundle unzipped into an empty
   folder: the page's first cell installs the course_utils wheel beside it, and the page runs;
2. the bundle's README steps (pip install the wheel with the lock as constraints): then EVERY
   page, each from its own empty folder holding only its bundle, runs in quick mode against the
   installed package (no repository, no repository URL); together they read every results file
   the package ships;
3. README's plain-pip path from the checkout (the one for Windows and macOS), JupyterLab with
   its MyST extension enabled, and a chapter run from the checkout.

This is where `make test` runs every notebook (quick mode): opened alone, as readers open them.
`make notebooks` runs them with nbval in the development environment instead.
The first-cell tests at the top are quick and part of `make unit`.
"""
import concurrent.futures
import importlib.util
import json
import os
import resource
import time
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.txt"
PAGES = sorted((ROOT / "chapters").glob("*.ipynb"))
SHIPPED = sorted(p.name for p in (ROOT / "course_utils" / "full_results").glob("*.json"))
RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, path)
"""


def first_cell():
    nb = json.loads(PAGES[0].read_text(encoding="utf-8"))
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


@pytest.fixture
def without_course_utils(monkeypatch, tmp_path):
    """Run the first cell as if course_utils were not installed; record what it would run."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "course_utils" else real(name, *a))
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kw: calls.append((args, kw)))
    monkeypatch.chdir(tmp_path)
    for name in ("COURSE_REPO_URL", "COURSE_VERSION"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_the_first_cell_installs_the_wheel_beside_the_page_with_the_lock(without_course_utils, tmp_path):
    (tmp_path / "course_utils-0.2.0-py3-none-any.whl").write_bytes(b"")
    (tmp_path / "requirements.txt").write_text("")
    exec(first_cell(), {})
    [(args, kw)] = without_course_utils
    assert args[0] == [sys.executable, "-m", "pip", "install", "--quiet", "-c", "requirements.txt",
                       str(tmp_path / "course_utils-0.2.0-py3-none-any.whl")]
    assert kw == {"check": True} and "shell" not in kw


def test_the_first_cell_installs_the_page_s_version_from_a_valid_url(without_course_utils, monkeypatch):
    monkeypatch.setenv("COURSE_REPO_URL", "https://github.com/owner/course")
    monkeypatch.setenv("COURSE_VERSION", "0123456789abcdef0123456789abcdef01234567")
    exec(first_cell(), {})
    [(args, _)] = without_course_utils
    assert args[0][-1] == "git+https://github.com/owner/course@0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("url, version", [
    ("https://github.com/o/r$(touch pwned)", "main"), ('https://github.com/o/r" && touch pwned', "main"),
    ("https://github.com/o/r;touch pwned", "main"), ("file:///etc", "main"), ("-e .", "main"),
    ("https://github.com/o/r", "main$(touch pwned)"), ("https://github.com/o/r", "x y"), (None, "main")])
def test_the_first_cell_runs_nothing_on_a_hostile_or_missing_url(without_course_utils, monkeypatch,
                                                                 tmp_path, url, version):
    if url is not None:
        monkeypatch.setenv("COURSE_REPO_URL", url)
    monkeypatch.setenv("COURSE_VERSION", version)
    with pytest.raises(RuntimeError, match="没有找到 course_utils.*下载本章的 .zip"):
        exec(first_cell(), {})
    assert without_course_utils == [] and not (tmp_path / "pwned").exists()


def test_requires_python_is_what_the_locked_packages_need():
    """pyproject's requires-python must not promise a Python that a pinned package refuses."""
    import importlib.metadata
    import tomllib
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lowest = Version(project["requires-python"].removeprefix(">="))
    refused = []
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if "==" not in line or line.startswith((" ", "#")):
            continue
        name, version = line.split("==")
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        needs = dist.metadata.get("Requires-Python")
        if dist.version.split("+")[0] == version and needs and lowest not in SpecifierSet(needs):
            refused.append(f"{name}=={version} needs Python {needs}")
    assert refused == [], f"requires-python {project['requires-python']} promises too much: {refused}"


def test_chapter_pages_offer_their_bundle_in_the_download_menu_and_carry_their_commit(tmp_path):
    site_bundles = bundles()
    menu = {"label": "download-buttons", "buttons": [{"text": ".ipynb"}, {"text": ".md"}, {"text": ".pdf"}]}
    context = {"ipynb_source": "chapters/05_rnn_scratch.ipynb", "header_buttons": [menu],
               "pathto": lambda target, resource: f"../{target}"}
    site_bundles.add_download(None, "chapters/05_rnn_scratch", "page.html", context, None)
    assert [b["text"] for b in menu["buttons"]] == [".ipynb", ".zip", ".md", ".pdf"]
    assert menu["buttons"][1]["url"] == "../bundles/05_rnn_scratch.zip"
    site_bundles.add_download(None, "intro", "page.html", {**context, "header_buttons": [{}]}, None)
    page = tmp_path / "05_rnn_scratch.ipynb"
    shutil.copy(PAGES[4], page)
    site_bundles.stamp_version(page, "0123456789abcdef0123456789abcdef01234567")
    nb = json.loads(page.read_text(encoding="utf-8"))
    first = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    assert 'os.environ.get("COURSE_VERSION", "0123456789abcdef0123456789abcdef01234567")' in first
    with pytest.raises(Exception, match="no line"):
        site_bundles.stamp_version(page, "0" * 40)  # already stamped: the line is gone


# ---- the slow part: one fresh environment --------------------------------------------------

def run(cmd, env, cwd, timeout=900):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


def clean_env(**extra):
    """The environment of a reader's shell: no course variables of this test run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COURSE_", "PYTEST_", "VIRTUAL_ENV")) and k != "PYTHONPATH"}
    if os.environ.get("COURSE_DATA_MIRROR"):  # offline: the data's canonical URLs stand in here
        env["COURSE_DATA_MIRROR"] = os.environ["COURSE_DATA_MIRROR"]
    env.update(extra)
    return env


def execute(python, notebook, env):
    """Run a notebook in its folder; (None, cells) or (what failed, cells)."""
    proc = subprocess.run([str(python), "-c", RUNNER, str(notebook), str(notebook.parent)],
                          capture_output=True, text=True, env=env, cwd=notebook.parent, timeout=900)
    if proc.returncode != 0:
        return (proc.stdout[-2000:] + proc.stderr[-4000:]), []
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    return (f"error outputs: {errors}" if errors else None), cells


def bundles():
    """The bundles the site offers, made by the site's own code (_ext/bundles.py)."""
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        import bundles as site_bundles
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    return site_bundles


class Phases:
    """Wall and CPU seconds (this process and its children) of each phase, printed for
    bench/ci_budget.py's report (pytest -s shows them)."""

    def __init__(self):
        self.rows, self.last = [], self.now()

    @staticmethod
    def now():
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter(), own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def done(self, name):
        now = self.now()
        self.rows.append((name, now[0] - self.last[0], now[1] - self.last[1]))
        self.last = now
        print(f"install phase: {name}: {self.rows[-1][1]:.1f} s wall, {self.rows[-1][2]:.1f} CPU-s", flush=True)


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """Build the bundles, make one environment, run every page opened alone in it."""
    tmp = tmp_path_factory.mktemp("install")
    phases = Phases()
    site_bundles = bundles()
    wheel = site_bundles.build_wheel(ROOT, tmp / "wheel")
    zips = {page.name: site_bundles.make_bundle(page, wheel, LOCK, tmp / "bundles") for page in PAGES}
    phases.done("wheel and bundles")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True)
    python = tmp / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
    # PIP_RETRIES: this machine reaches no index but its local one; without it pip waits for each
    # package on the PyTorch index the README names. A reader's machine needs nothing of this.
    # (pip compiles bytecode as it installs: with PYTHONDONTWRITEBYTECODE set, as on this
    # project's machines, 20 kernels would otherwise each compile torch's imports again.)
    env = clean_env(COURSE_DATA_DIR=str(tmp / "cache"), PIP_RETRIES="0")

    def unzip(name):
        folder = tmp / "pages" / Path(name).stem
        folder.mkdir(parents=True)
        with zipfile.ZipFile(zips[name]) as z:
            z.extractall(folder)
        return folder / Path(name).stem

    def page_env(name):
        return {**env, "COURSE_RESULTS_READS": str(tmp / f"{name}.reads")}

    outcome = {}
    # 1. a plain Jupyter: the first page's first cell installs the wheel beside it
    run([python, "-m", "pip", "install", "-q", "-c", LOCK, "ipykernel", "nbclient", "nbformat"],
        env, tmp)
    phases.done("venv and a plain Jupyter")
    assert run([python, "-c", "import importlib.util as u; print(u.find_spec('course_utils'))"],
               env, tmp).stdout.strip() == "None"
    first = PAGES[0].name
    folder = unzip(first)
    outcome[first] = execute(python, folder / first, page_env(first))
    phases.done(f"{first}: its first cell installs the wheel, then it runs")
    # 2. the bundle's README steps, then every other page from its own empty folder
    readme = (folder / "README.md").read_text(encoding="utf-8")
    step = next(line for line in readme.splitlines() if "pip install" in line)
    command = step.split("python ", 1)[1].replace('"', "").split()
    assert command[:3] == ["-m", "pip", "install"]
    run([python, *command], env, folder)
    phases.done("the bundle README's pip install")
    rest = [page.name for page in PAGES if page.name != first]
    folders = {name: unzip(name) for name in rest}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(execute, python, folders[name] / name, page_env(name)) for name in rest}
        outcome.update({name: future.result() for name, future in futures.items()})
    phases.done(f"the other {len(rest)} pages, two at a time")
    reads = {name: set((tmp / f"{name}.reads").read_text().split()) if (tmp / f"{name}.reads").exists()
             else set() for name in outcome}
    return {"python": python, "env": env, "tmp": tmp, "outcome": outcome, "reads": reads,
            "readme": readme, "wheel": wheel}


@pytest.mark.install
@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_every_page_opened_alone_runs_from_its_bundle(alone, page):
    failure, cells = alone["outcome"][page]
    assert failure is None, f"{page} opened alone from its bundle failed:\n{failure}"
    stderr = [o for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not any("Glyph" in "".join(o["text"]) for o in stderr), "Chinese font missing"


@pytest.mark.install
def test_pages_opened_alone_read_every_results_file_the_package_ships(alone):
    read = set().union(*alone["reads"].values())
    assert sorted(f"{name}.json" for name in read) == SHIPPED
    installed = run([alone["python"], "-c", "import course_utils; print(course_utils.__file__)"],
                    alone["env"], alone["tmp"]).stdout
    assert "site-packages" in installed, "the pages ran against the installed wheel"


@pytest.mark.install
def test_readme_plain_pip_path_runs_a_chapter(alone, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = 'python -m pip install -c requirements.txt -e ".[lab]"'
    assert command in readme, "the test must run what README tells students"
    python, env = alone["python"], alone["env"]
    run([python, "-m", "pip", "install", "-q", "-c", "requirements.txt", "-e", ".[lab]"], env, ROOT)
    # JupyterLab renders the MyST in the pages (folded answers) only if it accepts the extension
    listed = subprocess.run([str(python), "-m", "jupyter", "labextension", "list"],
                            capture_output=True, text=True, env={**env, "NO_COLOR": "1"})
    extensions = listed.stdout + listed.stderr
    assert "jupyterlab-myst" in extensions and "not compatible" not in extensions, extensions
    notebook = tmp_path / "02_text_preprocessing.ipynb"
    shutil.copy(ROOT / "chapters" / notebook.name, notebook)
    proc = subprocess.run([str(python), "-c", RUNNER, str(notebook), str(ROOT / "chapters")],
                          capture_output=True, text=True, env=env, cwd=ROOT / "chapters", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = notebook.read_text(encoding="utf-8")
    assert "快速运行" in text and "1027 个不同字符" in text
