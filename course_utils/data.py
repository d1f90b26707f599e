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
per read, and stops reading at the file's known size (a server or mirror that sends more is
refused without reading the rest). Partial files left by killed processes are removed on every
access. Every failure is a DataError that names the file or URL and what to do.
"""
import contextlib
import hashlib
import http.client
import os
import signal
import socket
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
# Partial files are named <file>.<host>.<pid>.<random>.part: on the same host, one whose
# process has ended is removed at once (a SIGKILL leaves no chance to clean up).
HOST_TAG = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]

# name -> (canonical URL, file name, SHA-256, SHA-1 as the books publish it, size in bytes)
DATASETS = {
    "time_machine": (
        "https://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt", "timemachine.txt",
        "8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516",
        "090b5e7e70c295757f55df93cb0a180b9691891a", 178979),
    "jay_lyrics": (
        "https://raw.githubusercontent.com/d2l-ai/d2l-zh/v1/data/jaychou_lyrics.txt.zip",
        "jaychou_lyrics.txt.zip",
        "3cfedd7d174111cdad5a27eaffaa6a2432a2842cf2590a03dd8a97610ea07043",
        "9529987e701a4f37048ab778270a5dde9a762a0b", 52607),
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
    folder = _folder_from_env(CACHE_ENV, DEFAULT_CACHE)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    if existing.exists() and not existing.is_dir():
        named = f"{CACHE_ENV} names" if os.environ.get(CACHE_ENV) is not None else "the data cache"
        which = "which" if existing == folder else f"but {existing}"
        raise DataError(f"{named} {folder}, {which} is a file, not a folder; set {CACHE_ENV} to "
                        f"a folder (it is created if missing), or move that file away.")
    return folder


def mirror_dir():
    mirror = _folder_from_env(MIRROR_ENV)
    if mirror is not None and not mirror.is_dir():
        raise DataError(f"{MIRROR_ENV} names {mirror}, which is not a folder; point it at the "
                        f"folder holding the data files, or unset it to download them.")
    return mirror


def _read_verified(path, expected, size):
    """The file's bytes if it exists and has the expected size and SHA-256; None otherwise (a
    file that another process has just replaced, or a stale copy, is simply a miss; a file of
    the wrong size is not even read)."""
    path = Path(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(path))
        if path.stat().st_size != size:
            return None
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError as err:
        raise DataError(f"the cache path {path} is a folder, not a file; remove or rename that "
                        f"folder (the verified copy of {path.name} goes there), or set "
                        f"{CACHE_ENV} to another folder.") from err
    except PermissionError as err:
        raise DataError(f"cannot read the cached file {path} ({err}); set {CACHE_ENV} to a "
                        f"folder of your own, or ask the folder's owner to make it readable.") from err
    return content if sha256(content) == expected else None


def _copy_at_most(read, out, size, source, hint, on_block=None):
    """Copy blocks from read() to out, refusing a source longer than `size` bytes without
    reading more than one block past it."""
    written = 0
    while block := read(1 << 16):
        written += len(block)
        if written > size:
            raise DataError(f"{source} sends more than the {size:,} bytes the file has; reading "
                            f"stopped there and nothing was cached. {hint}")
        try:
            out.write(block)
        except OSError as err:  # a full disk, a quota
            raise DataError(f"could not write to the data cache ({type(err).__name__}: {err}); "
                            f"free some space, or set {CACHE_ENV} to another folder.") from err
        if on_block is not None:
            on_block()


def _fetch(url, out, mirror, fname, size, timeout_s):
    """Write the file's bytes (at most `size`) to the open file `out`; returns their source."""
    if mirror is not None:
        source = mirror / fname
        if not source.is_file():
            raise DataError(f"{MIRROR_ENV}={mirror} has no file {fname}; put a copy of {url} "
                            f"there, or unset {MIRROR_ENV} to download it.")
        try:
            f = open(source, "rb")
        except OSError as err:
            raise DataError(f"cannot read the mirror's file {source} ({type(err).__name__}: "
                            f"{err}); make it readable by you (for example chmod a+r), or unset "
                            f"{MIRROR_ENV} to download {fname}.") from err
        with f:
            _copy_at_most(f.read, out, size, source, f"Replace it with a good copy of {url}.")
        return str(source)
    deadline = time.monotonic() + timeout_s
    hint = (f"Without network, set {MIRROR_ENV} to a folder holding {fname} "
            f"(for example ../shared/data in the course's folder).")

    def in_time():
        if time.monotonic() > deadline:
            raise DataError(f"downloading {url} took longer than {timeout_s:.0f} s "
                            f"and was stopped. {hint}")
    try:
        with urllib.request.urlopen(url, timeout=READ_TIMEOUT_S) as response:
            announced = (response.headers.get("Content-Length") or "").strip()
            if announced.isdigit() and int(announced) > size:
                raise DataError(f"{url} announces {int(announced):,} bytes but {fname} has "
                                f"{size:,}; nothing was downloaded. {hint}")
            # read1: whatever has arrived (read() would wait for a whole block from a slow server)
            _copy_at_most(response.read1, out, size, url, hint, on_block=in_time)
    except (OSError, http.client.HTTPException, ValueError) as err:
        # URLError, HTTPError, timeouts, DNS failures, a truncated or garbled response
        raise DataError(f"could not download {url} ({type(err).__name__}: {err}). {hint}") from err
    return url


def _process_ended(pid):
    """True when no process `pid` runs on this machine (POSIX; elsewhere: unknown, False)."""
    if os.name != "posix" or pid == os.getpid():
        return False  # (os.kill on Windows would terminate the process, not probe it)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists but belongs to another user
    return False


def _remove_stale_parts(folder, fname):
    """Delete partial files left by killed processes: at once when the process that wrote one
    (on this host) has ended, else when it is too old to belong to a live download."""
    try:
        parts = list(folder.glob(f"{fname}.*.part"))
    except OSError:
        return
    for part in parts:
        fields = part.name[len(fname) + 1:-len(".part")].split(".")
        ended = (len(fields) == 3 and fields[0] == HOST_TAG and fields[1].isdigit()
                 and _process_ended(int(fields[1])))
        try:
            if ended or time.time() - part.stat().st_mtime > STALE_PART_S:
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
    url, fname, expected, _, size = DATASETS[name]
    folder = cache_dir()
    target = folder / fname
    _remove_stale_parts(folder, fname)
    content = _read_verified(target, expected, size)
    if content is not None:
        return target, content
    try:
        return _replace(target, url, fname, expected, size, timeout_s)
    except DataError as err:
        content = _read_verified(target, expected, size)
        if content is not None:  # another process has cached a good copy meanwhile
            return target, content
        if not target.is_file():
            raise
        raise DataError(f"the cached copy {target} is corrupt or incomplete (it does not have "
                        f"the expected size and SHA-256), and no good copy could be fetched to "
                        f"replace it: {err}") from err


def _replace(target, url, fname, expected, size, timeout_s):
    """Fetch a verified copy into target's folder and move it into place atomically."""
    folder = target.parent
    mirror = mirror_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{fname}.{HOST_TAG}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part"
        # os.open honours the umask (mkstemp would make the file private to this user).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except PermissionError as err:
        raise DataError(f"the data cache {folder} is not writable by you ({err}); set "
                        f"{CACHE_ENV} to a folder of your own (or ask its owner for write "
                        f"access) and run again.") from err
    except (FileExistsError, NotADirectoryError) as err:
        raise DataError(f"cannot create the data cache {folder}: part of that path is a file "
                        f"({err}); set {CACHE_ENV} to a folder.") from err
    with _sigterm_cleans_up():
        try:
            with os.fdopen(fd, "wb") as out:
                source = _fetch(url, out, mirror, fname, size, timeout_s)
            content = tmp.read_bytes()
            actual = sha256(content)
            if actual != expected:
                raise DataError(f"checksum mismatch for {fname} from {source}: expected SHA-256 "
                                f"{expected} ({size:,} bytes), got {actual} ({len(content):,} "
                                f"bytes). The file was not cached; replace the source with a "
                                f"good copy and try again.")
            try:
                os.replace(tmp, target)  # atomic: readers see the old file or the new, never half
            except PermissionError:
                # Windows cannot replace a file another process holds open; that file is then
                # being read by someone, so it is (or is about to be) a verified copy.
                if _read_verified(target, expected, size) is None:
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
