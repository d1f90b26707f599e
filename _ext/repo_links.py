"""Repository and launch buttons that lead somewhere, or none at all.

The course's repository URL is one setting, taken from the environment of the build:

    COURSE_REPO_URL      the public URL of the repository (https://host/owner/name), if set
                         ("none": build without buttons, whatever `origin` is);
    else the git remote `origin`, when it is a public Git host (GitHub, GitLab, Gitee, Codeberg);
    else no URL: the site shows no repository button and no launch buttons.
    COURSE_REPO_BRANCH   the branch the buttons point at (default: main).

With a URL, each chapter gets a repository button and a Binder button (GitHub/GitLab), and
the notebook a reader downloads from the page carries the URL in its first cell, so that
opened alone (a laptop, or uploaded to Colab) it can install course_utils by itself.
"""
import json
import os
import re
import subprocess
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)
PUBLIC_HOSTS = ("github.com", "gitlab.com", "gitee.com", "codeberg.org")
BINDER_HOSTS = ("github.com", "gitlab.com")
HTTPS_URL = re.compile(r"^https://([a-z0-9.-]+)/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")
SSH_URL = re.compile(r"^git@([a-z0-9.-]+):([\w.-]+)/([\w.-]+?)(?:\.git)?$")
# The line of every chapter's first cell that the downloaded copy gets the URL in.
URL_LINE = '    COURSE_REPO_URL = os.environ.get("COURSE_REPO_URL")  # 课程仓库的 Git 地址'


def normalise(url):
    """https://host/owner/name for a URL of a public Git host, else None."""
    for pattern in (HTTPS_URL, SSH_URL):
        m = pattern.match(url.strip())
        if m and m.group(1) in PUBLIC_HOSTS:
            return f"https://{m.group(1)}/{m.group(2)}/{m.group(3)}"
    return None


def repository_url(srcdir):
    given = os.environ.get("COURSE_REPO_URL", "").strip()
    if given.lower() == "none":
        return None
    if given:
        url = normalise(given)
        if url is None:
            raise ExtensionError(f"COURSE_REPO_URL={given!r} is not the https URL of a repository on "
                                 f"{', '.join(PUBLIC_HOSTS)}; unset it to build without buttons")
        return url
    try:
        origin = subprocess.run(["git", "remote", "get-url", "origin"], cwd=srcdir,
                                capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return normalise(origin) if origin.strip() else None


def configure(app, config):
    url = repository_url(app.srcdir)
    options = dict(config.html_theme_options)
    for key in ("repository_url", "repository_branch", "launch_buttons"):
        options.pop(key, None)
    options.update(use_repository_button=bool(url), use_issues_button=False,
                   use_edit_page_button=False)
    if url:
        options.update(repository_url=url,
                       repository_branch=os.environ.get("COURSE_REPO_BRANCH", "main"))
        if url.split("/")[2] in BINDER_HOSTS:
            options["launch_buttons"] = {"notebook_interface": "jupyterlab",
                                         "binderhub_url": "https://mybinder.org"}
    config.html_theme_options = options
    app.env_course_repo_url = url
    logger.info(f"repo_links: repository {url or '(none: no repository or launch buttons)'}")


def stamp_downloads(app, exception):
    """The notebooks readers download carry the repository URL in their first cell."""
    url = getattr(app, "env_course_repo_url", None)
    if exception is not None or app.builder.format != "html" or not url:
        return
    for path in (Path(app.outdir) / "_sources").rglob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = next(c for c in nb["cells"] if c["cell_type"] == "code")
        source = "".join(first["source"])
        if URL_LINE not in source:
            raise ExtensionError(f"repo_links: the first cell of {path.name} has no line "
                                 f"{URL_LINE.strip()!r}; every chapter starts with the same setup cell")
        stamped = source.replace(URL_LINE, f'    COURSE_REPO_URL = os.environ.get("COURSE_REPO_URL", '
                                           f'"{url}")  # 课程仓库的 Git 地址（网站构建时写入）')
        first["source"] = stamped.splitlines(keepends=True)
        path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def setup(app):
    app.connect("config-inited", configure, priority=900)
    app.connect("build-finished", stamp_downloads)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
