"""Third-party data: download once, check SHA-1, cache under data/.

Offline use: set COURSE_DATA_MIRROR to a folder that holds the original files
(e.g. ../shared/data); they are copied from there instead of downloaded.
A file is written to the cache only once its checksum is right (temp file + rename),
so an interrupted download or a corrupt mirror never leaves a bad cache behind.
"""
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

MIRROR_ENV = "COURSE_DATA_MIRROR"
CACHE_ENV = "COURSE_DATA_DIR"
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / "data"

# name -> (canonical URL, file name, SHA-1 of that file)
DATASETS = {
    "time_machine": ("http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
                     "timemachine.txt", "090b5e7e70c295757f55df93cb0a180b9691891a"),
    "jay_lyrics": ("https://raw.githubusercontent.com/d2l-ai/d2l-zh/v1/data/jaychou_lyrics.txt.zip",
                   "jaychou_lyrics.txt.zip", "9529987e701a4f37048ab778270a5dde9a762a0b"),
}


class DataError(RuntimeError):
    """A data file could not be obtained or failed its checksum."""


def sha1(path):
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir():
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def _fetch_into(tmp_path, url, fname):
    """Copy the file from the mirror if one is set, else download it."""
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        source = Path(mirror) / fname
        if not source.is_file():
            raise DataError(f"{MIRROR_ENV}={mirror} has no file {fname}; put a copy of {url} "
                            f"there or unset {MIRROR_ENV} to download it.")
        shutil.copyfile(source, tmp_path)
        return str(source)
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(tmp_path, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as err:  # URLError, timeouts and DNS failures are all OSErrors
        raise DataError(f"could not download {url} ({err}). Without network, set {MIRROR_ENV} "
                        f"to a folder holding {fname} (for example ../shared/data).") from err
    return url


def download(name):
    """Path of the verified local copy of dataset `name`, fetching it if needed."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {sorted(DATASETS)}")
    url, fname, expected = DATASETS[name]
    folder = cache_dir()
    target = folder / fname
    if target.is_file():
        if sha1(target) == expected:
            return target
        target.unlink()  # a stale or corrupt cache entry: fetch it again below
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=fname, suffix=".part")
    os.close(fd)
    try:
        source = _fetch_into(tmp, url, fname)
        actual = sha1(tmp)
        if actual != expected:
            raise DataError(f"checksum mismatch for {fname} from {source}: expected SHA-1 "
                            f"{expected}, got {actual}. The file was not cached; replace the "
                            f"source with a good copy and try again.")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def read_text(name):
    """The dataset's text (a zip archive is read from its single member)."""
    path = download(name)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            member = archive.namelist()[0]
            return archive.read(member).decode("utf-8")
    return path.read_text(encoding="utf-8")
