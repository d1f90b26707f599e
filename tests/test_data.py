import hashlib
import os

import pytest

from course_utils import data


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def mirror(cache, tmp_path, monkeypatch):
    """A mirror holding a copy of the real time machine file (taken from the normal cache)."""
    with monkeypatch.context() as m:
        m.setenv(data.CACHE_ENV, str(data.DEFAULT_CACHE))
        real = data.download("time_machine").read_bytes()
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "timemachine.txt").write_bytes(real)
    monkeypatch.setenv(data.MIRROR_ENV, str(folder))
    return folder


def test_download_from_mirror_verifies_and_caches(cache, mirror):
    path = data.download("time_machine")
    assert path == cache / "timemachine.txt"
    assert data.sha1(path) == data.DATASETS["time_machine"][2]
    assert not list(cache.glob("*.part"))  # no temp file left behind


def test_cache_hit_does_not_touch_the_mirror(cache, mirror):
    data.download("time_machine")
    (mirror / "timemachine.txt").unlink()
    assert data.download("time_machine").is_file()


def test_corrupt_cache_is_replaced(cache, mirror):
    path = data.download("time_machine")
    path.write_text("not the book")
    assert data.sha1(data.download("time_machine")) == data.DATASETS["time_machine"][2]


def test_checksum_mismatch_is_an_error_and_not_cached(cache, mirror):
    (mirror / "timemachine.txt").write_text("a corrupted copy")
    with pytest.raises(data.DataError, match="checksum mismatch.*expected SHA-1 090b5e7e"):
        data.download("time_machine")
    assert not (cache / "timemachine.txt").exists()
    assert not list(cache.glob("*.part"))


def test_unknown_dataset_lists_the_known_ones(cache):
    with pytest.raises(KeyError, match="jay_lyrics.*time_machine"):
        data.download("shakespeare")


def test_mirror_without_the_file(cache, tmp_path, monkeypatch):
    monkeypatch.setenv(data.MIRROR_ENV, str(tmp_path))
    with pytest.raises(data.DataError, match="has no file jaychou_lyrics.txt.zip"):
        data.download("jay_lyrics")


def test_no_network_and_no_mirror_names_the_variable(cache, monkeypatch):
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")
    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(data.DataError, match=data.MIRROR_ENV):
        data.download("time_machine")
    assert not list(cache.glob("*"))  # nothing half-written


def test_download_over_network_path(cache, monkeypatch):
    """The network branch: whatever urlopen returns is checked like a mirror copy."""
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    payload = b"fake body"

    class Response:
        def __init__(self):
            self.sent = False

        def read(self, n=-1):
            if self.sent:
                return b""
            self.sent = True
            return payload

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: Response())
    with pytest.raises(data.DataError, match=hashlib.sha1(payload).hexdigest()):
        data.download("time_machine")


def test_read_text_of_both_datasets():
    assert data.read_text("time_machine").startswith("The Time Machine, by H. G. Wells")
    lyrics = data.read_text("jay_lyrics")
    assert "想要有直升机" in lyrics and len(lyrics) > 60000


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    assert data.cache_dir() == tmp_path
    monkeypatch.delenv(data.CACHE_ENV)
    assert data.cache_dir() == data.DEFAULT_CACHE
    assert os.path.basename(data.DEFAULT_CACHE) == "data"
