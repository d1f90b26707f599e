"""Third-party data: download once, verify the checksum, cache; or copy from a mirror offline.

    COURSE_DATA_MIRROR  a folder holding the original files (e.g. ../shared/data): they are
                        copied from there instead of downloaded (no network needed).
    COURSE_DATA_DIR     where the verified copies are cached. Default: data/ in a checkout of
                        the course; the user's cache folder when course_utils is pip-installed.

Relative paths in both variables are taken from the course's root folder (where
pyproject.toml is), so they mean the same in a shell and in a notebook kernel (whose
working folder is chapters/).

Safe with any number of processes reading at once: a cached file is only ever replaced,
atomically, by a copy that has already passed its check, and is never deleted; a reader
checks the very bytes it returns. A download has an overall time limit as well as a limit
per read, and every failure is a DataError that names the URL and the mirror variable.
"""
import contextlib
import hashlib
import http.client
import os
import shutil
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

MIRROR_ENV = "COURSE_DATA_MIRROR"
CACHE_ENV = "COURSE_DATA_DIR"
ROOT = Path(__file__).resolve().parent.parent
IN_CHECKOUT = (ROOT / "pyproject.toml").is_file() and (ROOT / "chapters").is_dir()
DEFAULT_CACHE = ROOT / "data" if IN_CHECKOUT else (
    Path(os.environ.get("LOCALAPPDATA") or Path.home() / ".cache") / "seq-rnn-course")
READ_TIMEOUT_S = 30      # one read that waits longer than this fails
DOWNLOAD_TIMEOUT_S = 300  # a whole file that takes longer than this fails (a trickling server)
STALE_PART_S = 2 * DOWNLOAD_TIMEOUT_S  # a *.part file this old belongs to no live download

# name -> (canonical URL, file name, SHA-256, SHA-1 as the books publish it)
DATASETS = {
    "time_machine": (
        "https://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt", "timemachine.txt",
        "8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516",
        "090b5e7e70c295757f55df93cb0a180b9691891a"),
    "jay_lyrics": (
        "https://raw.githubusercontent.com/d2l-ai/d2l-zh/v1/data/jaychou_lyrics.txt.zip",
        "jaychou_lyrics.txt.zip",
        "3cfedd7d174111cdad5a27eaffaa6a2432a2842cf2590a03dd8a97610ea07043",
        "9529987e701a4f37048ab778270a5dde9a762a0b"),
}


class DataError(RuntimeError):
    """A data file could not be obtained, failed its checksum, or the cache is unusable."""


def sha256(path_or_bytes):
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return hashlib.sha256(path_or_bytes).hexdigest()
    digest = hashlib.sha256()
    with open(path_or_bytes, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_from_env(name, default=None):
    """The folder an environment variable names, as an absolute path (None: unset)."""
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip():
        raise DataError(f"{name} is set but empty; unset it or set it to a folder.")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        if not IN_CHECKOUT:
            raise DataError(f"{name}={value!r} is a relative path; give an absolute path "
                            f"(course_utils is installed outside the course's folder).")
        path = ROOT / path
    return path.resolve()


def cache_dir():
    return _folder_from_env(CACHE_ENV, DEFAULT_CACHE)


def mirror_dir():
    mirror = _folder_from_env(MIRROR_ENV)
    if mirror is not None and not mirror.is_dir():
        raise DataError(f"{MIRROR_ENV} names {mirror}, which is not a folder; point it at the "
                        f"folder holding the data files, or unset it to download them.")
    return mirror


def _read_verified(path, expected):
    """The file's bytes if it exists and has the expected SHA-256; None otherwise (a file
    that another process has just replaced, or a stale copy, is simply a miss)."""
    try:
        content = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except PermissionError as err:
        raise DataError(f"cannot read the cached file {path} ({err}); set {CACHE_ENV} to a "
                        f"folder of your own, or ask the folder's owner to make it readable.") from err
    return content if sha256(content) == expected else None


def _fetch(url, out, mirror, fname, timeout_s):
    """Write the file's bytes to the open file `out`; returns where they came from."""
    if mirror is not None:
        source = mirror / fname
        if not source.is_file():
            raise DataError(f"{MIRROR_ENV}={mirror} has no file {fname}; put a copy of {url} "
                            f"there, or unset {MIRROR_ENV} to download it.")
        with open(source, "rb") as f:
            shutil.copyfileobj(f, out)
        return str(source)
    deadline = time.monotonic() + timeout_s
    hint = (f"Without network, set {MIRROR_ENV} to a folder holding {fname} "
            f"(for example ../shared/data in the course's folder).")
    try:
        with urllib.request.urlopen(url, timeout=READ_TIMEOUT_S) as response:
            # read1: whatever has arrived (read() would wait for a whole block from a slow server)
            while block := response.read1(1 << 16):
                out.write(block)
                if time.monotonic() > deadline:
                    raise DataError(f"downloading {url} took longer than {timeout_s:.0f} s "
                                    f"and was stopped. {hint}")
    except (OSError, http.client.HTTPException, ValueError) as err:
        # URLError, HTTPError, timeouts, DNS failures, a truncated or garbled response
        raise DataError(f"could not download {url} ({type(err).__name__}: {err}). {hint}") from err
    return url


def _remove_stale_parts(folder, fname):
    """Delete partial downloads left by killed processes (too old to belong to a live one)."""
    for part in folder.glob(f"{fname}.*.part"):
        try:
            if time.time() - part.stat().st_mtime > STALE_PART_S:
                part.unlink()
        except OSError:
            pass  # another process removed it, or it is not ours to remove


@contextlib.contextmanager
def _sigterm_cleans_up():
    """While a file is being fetched, SIGTERM ends the process through Python's normal exit
    (so the partial file is removed) instead of killing it on the spot."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def stop(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def download(name, timeout_s=DOWNLOAD_TIMEOUT_S):
    """Path of the verified local copy of dataset `name`, fetching it if needed."""
    return _obtain(name, timeout_s)[0]


def _obtain(name, timeout_s):
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {sorted(DATASETS)}")
    url, fname, expected, _ = DATASETS[name]
    folder = cache_dir()
    target = folder / fname
    content = _read_verified(target, expected)
    if content is not None:
        return target, content
    mirror = mirror_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(folder, fname)
        tmp = folder / f"{fname}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part"
        # os.open honours the umask (mkstemp would make the file private to this user).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except PermissionError as err:
        raise DataError(f"the data cache {folder} is not writable by you ({err}); set "
                        f"{CACHE_ENV} to a folder of your own (or ask its owner for write "
                        f"access) and run again.") from err
    with _sigterm_cleans_up():
        try:
            with os.fdopen(fd, "wb") as out:
                source = _fetch(url, out, mirror, fname, timeout_s)
            content = tmp.read_bytes()
            actual = sha256(content)
            if actual != expected:
                raise DataError(f"checksum mismatch for {fname} from {source}: expected SHA-256 "
                                f"{expected}, got {actual}. The file was not cached; replace "
                                f"the source with a good copy and try again.")
            try:
                os.replace(tmp, target)  # atomic: readers see the old file or the new, never half
            except PermissionError:
                # Windows cannot replace a file another process holds open; that file is then
                # being read by someone, so it is (or is about to be) a verified copy.
                if _read_verified(target, expected) is None:
                    raise
        finally:
            if tmp.exists():
                tmp.unlink()
    return target, content


def read_bytes(name):
    """The dataset's verified bytes (checked as they are returned)."""
    return _obtain(name, DOWNLOAD_TIMEOUT_S)[1]


def read_text(name):
    """The dataset's text, decoded as UTF-8 (a zip archive is read from its single member)."""
    content = read_bytes(name)
    if DATASETS[name][1].endswith(".zip"):
        with zipfile.ZipFile(BytesIO(content)) as archive:
            content = archive.read(archive.namelist()[0])
    return content.decode("utf-8")


if __name__ == "__main__":  # python -m course_utils.data: fetch and verify every dataset
    for dataset in DATASETS:
        print(dataset, download(dataset))
    sys.exit(0)
