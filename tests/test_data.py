"""The data layer as a hostile but fair tester meets it: parallel readers on a bad cache,
servers that truncate, stall, trickle and redirect, killed downloads, shared caches,
and mirror paths written every way a user might."""
import functools
import http.server
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from course_utils import data

ROOT = Path(__file__).resolve().parent.parent
TM = data.DATASETS["time_machine"]


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """A folder with verified copies of both files (the mirror the tests hand out)."""
    folder = tmp_path_factory.mktemp("originals")
    for name, (_, fname, *_) in data.DATASETS.items():
        (folder / fname).write_bytes(data.read_bytes(name))
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def mirror(cache, originals, monkeypatch):
    monkeypatch.setenv(data.MIRROR_ENV, str(originals))
    return originals


def test_download_from_mirror_verifies_and_caches(cache, mirror):
    path = data.download("time_machine")
    assert path == cache / "timemachine.txt"
    assert data.sha256(path) == TM[2]
    assert not list(cache.glob("*.part"))  # no temp file left behind


def test_cache_hit_does_not_need_the_mirror(cache, mirror, monkeypatch):
    data.download("time_machine")
    monkeypatch.setenv(data.MIRROR_ENV, str(cache / "no-such-folder"))
    assert data.read_text("time_machine").startswith("The Time Machine")


def test_corrupt_cache_is_replaced(cache, mirror):
    path = data.download("time_machine")
    path.write_text("not the book")
    assert data.sha256(data.download("time_machine")) == TM[2]


def test_checksum_mismatch_is_an_error_and_not_cached(cache, tmp_path, monkeypatch):
    bad = tmp_path / "bad-mirror"
    bad.mkdir()
    (bad / "timemachine.txt").write_text("a corrupted copy")
    monkeypatch.setenv(data.MIRROR_ENV, str(bad))
    with pytest.raises(data.DataError, match="checksum mismatch.*expected SHA-256 8424dbd9"):
        data.download("time_machine")
    assert not (cache / "timemachine.txt").exists()
    assert not list(cache.glob("*.part"))


def test_unknown_dataset_lists_the_known_ones(cache):
    with pytest.raises(KeyError, match="jay_lyrics.*time_machine"):
        data.download("shakespeare")


def test_read_text_of_both_datasets():
    assert data.read_text("time_machine").startswith("The Time Machine, by H. G. Wells")
    lyrics = data.read_text("jay_lyrics")
    assert "想要有直升机" in lyrics and len(lyrics) > 60000


def test_sources_use_https():
    assert all(url.startswith("https://") for url, *_ in data.DATASETS.values())


# --------------------------------------------------------------- many readers at once

READER = """
import sys, time
from course_utils import data, text
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))  # asleep, not spinning: five spinning waiters cost 4 CPU-s a round
corpus, vocab = text.load_corpus_time_machine()
lyrics = text.read_jay_lyrics(whole_file=True)
assert len(corpus) == 170580 and len(vocab) == 28 and len(lyrics) == 63282
"""


@pytest.mark.parametrize("state", ["empty", "corrupt", "truncated"])
def test_parallel_readers_never_crash_and_leave_a_correct_cache(state, cache, mirror, originals):
    processes, rounds = 5, 3
    env = {**os.environ, data.CACHE_ENV: str(cache), data.MIRROR_ENV: str(originals)}
    for round_ in range(rounds):
        cache.mkdir(exist_ok=True)
        for _, fname, *_ in data.DATASETS.values():
            good = (originals / fname).read_bytes()
            target = cache / fname
            if state == "empty":
                target.unlink(missing_ok=True)
            elif state == "corrupt":
                target.write_bytes(b"x" * len(good))
            else:
                target.write_bytes(good[:len(good) // 3])
        start = time.time() + 0.8  # every process starts reading at the same moment
        procs = [subprocess.Popen([sys.executable, "-c", READER, str(start)], env=env,
                                  cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(processes)]
        failures = [p.stderr.read() for p in procs if p.wait() != 0]
        assert not failures, f"round {round_}, {state} cache: {failures[0][-2000:]}"
        for name, (_, fname, digest, *_) in data.DATASETS.items():
            assert data.sha256(cache / fname) == digest, (round_, state, fname)
        assert not list(cache.glob("*.part"))


# --------------------------------------------------------------- servers that misbehave

class Server(http.server.BaseHTTPRequestHandler):
    body = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        route = getattr(self, "route_" + self.path.strip("/"), None)
        if route is None:
            self.send_error(404)
        else:
            route()

    def route_ok(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def route_redirect(self):
        self.send_response(302)
        self.send_header("Location", "/ok")
        self.end_headers()

    def route_truncated_chunked(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"1000\r\n" + self.body[:100])  # promises 4096 bytes, sends 100
        self.wfile.flush()
        self.connection.shutdown(2)

    def route_bad_status(self):
        self.wfile.write(b"NOT-HTTP garbage\r\n\r\n")

    def route_stall(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.flush()
        time.sleep(3)

    def oversized(self, announce):
        """The file, then more of it, up to 20 MB (a bounded stand-in for an endless body)."""
        self.send_response(200)
        if announce:
            self.send_header("Content-Length", str(1_500_000_000))
        self.end_headers()
        try:
            for _ in range(20_000_000 // len(self.body)):
                self.wfile.write(self.body)
        except OSError:
            return

    def route_endless(self):
        self.oversized(announce=False)

    def route_huge(self):
        self.oversized(announce=True)

    def route_trickle(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        for i in range(0, len(self.body), 200):
            try:
                self.wfile.write(self.body[i:i + 200])
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)


@pytest.fixture(scope="module")
def server(originals):
    handler = type("Handler", (Server,), {"body": (originals / TM[1]).read_bytes()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def from_server(server, cache, monkeypatch):
    """Point the time machine at one route of the local server; no mirror."""
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    monkeypatch.setattr(data, "READ_TIMEOUT_S", 1)

    def use(route):
        monkeypatch.setitem(data.DATASETS, "time_machine", (f"{server}/{route}", *TM[1:]))
        return f"{server}/{route}"
    return use


def test_a_good_server_and_a_redirect(from_server, cache):
    from_server("redirect")
    assert data.sha256(data.download("time_machine")) == TM[2]


@pytest.mark.parametrize("route,why", [
    ("truncated_chunked", "IncompleteRead"),
    ("bad_status", "BadStatusLine"),
    ("stall", "timed out"),
    ("missing", "404"),
])
def test_every_server_failure_is_a_data_error_with_the_url_and_the_mirror_hint(
        from_server, cache, route, why):
    url = from_server(route)
    with pytest.raises(data.DataError) as err:
        data.download("time_machine")
    message = str(err.value)
    assert url in message and data.MIRROR_ENV in message and why in message
    assert not list(cache.glob("*.part")) and not (cache / TM[1]).exists()


def test_a_trickling_server_is_stopped_by_the_overall_limit(from_server, cache):
    url = from_server("trickle")
    start = time.monotonic()
    with pytest.raises(data.DataError, match="took longer than 1 s"):
        data.download("time_machine", timeout_s=1)
    assert time.monotonic() - start < 5
    assert not list(cache.glob("*.part"))


@pytest.mark.parametrize("route,why", [
    ("endless", "sends more than the 178,979 bytes the file has"),
    ("huge", "announces 1,500,000,000 bytes but timemachine.txt has 178,979"),
])
def test_a_body_longer_than_the_file_is_refused_at_the_known_size(from_server, cache, route, why):
    url = from_server(route)
    start = time.monotonic()
    tracemalloc.start()
    try:
        with pytest.raises(data.DataError, match=why) as err:
            data.download("time_machine")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert url in str(err.value) and data.MIRROR_ENV in str(err.value)
    assert time.monotonic() - start < 5 and peak < 5_000_000  # 20 MB were on offer
    assert not list(cache.glob("*.part")) and not (cache / TM[1]).exists()


def test_a_mirror_file_longer_than_the_dataset_is_refused_at_the_known_size(cache, originals,
                                                                            tmp_path, monkeypatch):
    bad = tmp_path / "long-mirror"
    bad.mkdir()
    with open(bad / TM[1], "wb") as f:
        f.write((originals / TM[1]).read_bytes())
        f.truncate(1_500_000_000)  # sparse: 1.5 GB to read, no disk used
    monkeypatch.setenv(data.MIRROR_ENV, str(bad))
    start = time.monotonic()
    with pytest.raises(data.DataError, match=f"{bad / TM[1]} sends more than the 178,979 bytes"):
        data.download("time_machine")
    assert time.monotonic() - start < 5 and not list(cache.glob("*.part"))


def test_a_cached_file_of_the_wrong_size_is_replaced_without_being_read(cache, mirror, monkeypatch):
    cache.mkdir()
    with open(cache / TM[1], "wb") as f:
        f.truncate(1_500_000_000)  # a 1.5 GB file where the book should be (sparse)
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or original(self))
    assert data.sha256(data.download("time_machine")) == TM[2]
    assert cache / TM[1] not in read


def test_a_corrupt_cache_without_network_names_the_corrupt_file(cache, monkeypatch):
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    monkeypatch.setitem(data.DATASETS, "time_machine", ("http://127.0.0.1:9/x", *TM[1:]))
    cache.mkdir()
    (cache / TM[1]).write_bytes(b"half a book")
    with pytest.raises(data.DataError) as err:
        data.download("time_machine")
    message = str(err.value)
    assert f"the cached copy {cache / TM[1]} is corrupt or incomplete" in message
    assert "http://127.0.0.1:9/x" in message and data.MIRROR_ENV in message
    assert (cache / TM[1]).read_bytes() == b"half a book" and not list(cache.glob("*.part"))


def test_a_cache_path_that_is_a_folder_is_explained(cache, mirror):
    (cache / TM[1]).mkdir(parents=True)
    with pytest.raises(data.DataError, match=f"the cache path {cache / TM[1]} is a folder, not a "
                                             f"file; remove or rename that folder"):
        data.read_text("time_machine")


def test_a_cache_variable_naming_a_file_is_explained(tmp_path, monkeypatch, originals):
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    monkeypatch.setenv(data.MIRROR_ENV, str(originals))
    for value in (afile, afile / "below"):
        monkeypatch.setenv(data.CACHE_ENV, str(value))
        with pytest.raises(data.DataError, match=f"{afile}.*set {data.CACHE_ENV} to a folder"):
            data.download("time_machine")


def test_a_full_disk_is_explained_and_leaves_the_cache_as_it_was(cache, mirror, monkeypatch):
    cache.mkdir()
    (cache / TM[1]).write_bytes(b"an old, truncated copy")
    original = os.fdopen

    class FullDisk:
        def __init__(self, f):
            self.f = f

        def write(self, block):
            raise OSError(28, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()
    monkeypatch.setattr(data.os, "fdopen", lambda fd, mode: FullDisk(original(fd, mode)))
    with pytest.raises(data.DataError, match="could not write to the data cache.*No space left "
                                             f"on device.*set {data.CACHE_ENV} to another folder"):
        data.download("time_machine")
    assert (cache / TM[1]).read_bytes() == b"an old, truncated copy"
    assert not list(cache.glob("*.part"))


def test_an_unreadable_mirror_file_is_explained(cache, mirror, monkeypatch):
    # (root may read anything, so the refusal is simulated where the mirror's file is opened)
    import builtins

    def refuse(path, *args, **kwargs):
        if Path(path) == mirror / TM[1]:
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)
    monkeypatch.setattr(data, "open", refuse, raising=False)
    with pytest.raises(data.DataError, match=f"cannot read the mirror's file {mirror / TM[1]} "
                                             f"\\(PermissionError.*make it readable by you"):
        data.download("time_machine")
    assert not list(cache.glob("*.part"))


def test_no_network_and_no_mirror_names_the_variable(cache, monkeypatch):
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    monkeypatch.setitem(data.DATASETS, "time_machine", ("http://127.0.0.1:9/x", *TM[1:]))
    with pytest.raises(data.DataError, match=data.MIRROR_ENV):
        data.download("time_machine")
    assert not list(cache.glob("*"))  # nothing half-written


def start_a_slow_download(server, cache):
    """A process that downloads the time machine from a server that sends it slowly; returns
    once its partial file is in the cache."""
    script = ("from course_utils import data\n"
              f"data.DATASETS['time_machine'] = ('{server}/trickle',) + data.DATASETS['time_machine'][1:]\n"
              "data.download('time_machine')\n")
    env = {k: v for k, v in os.environ.items() if k != data.MIRROR_ENV}
    env[data.CACHE_ENV] = str(cache)
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT)
    deadline = time.monotonic() + 20
    while not list(cache.glob("*.part")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(cache.glob("*.part")), "the download never started"
    return proc


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="POSIX signals")
def test_sigterm_during_a_download_leaves_no_partial_file(server, cache):
    proc = start_a_slow_download(server, cache)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    assert not list(cache.glob("*.part"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_copy_killed_with_sigkill_leaves_a_part_that_the_next_warm_read_removes(
        server, cache, originals, monkeypatch):
    proc = start_a_slow_download(server, cache)
    parts = list(cache.glob("*.part"))
    proc.kill()  # SIGKILL: no chance to clean up
    proc.wait(timeout=20)
    assert all(p.exists() for p in parts)
    shutil.copy(originals / TM[1], cache / TM[1])  # a warm cache: nothing to fetch
    monkeypatch.setenv(data.MIRROR_ENV, str(cache / "no-such-folder"))
    assert data.read_text("time_machine").startswith("The Time Machine")
    assert not any(p.exists() for p in parts)


@pytest.mark.skipif(os.name != "posix", reason="POSIX process ids")
def test_a_part_of_a_live_process_is_kept_and_of_an_ended_one_removed(cache, mirror):
    cache.mkdir()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    try:
        keep = cache / f"{TM[1]}.{data.HOST_TAG}.{live.pid}.0badcafe.part"
        gone = cache / f"{TM[1]}.{data.HOST_TAG}.{ended.pid}.0badcafe.part"
        elsewhere = cache / f"{TM[1]}.0ther0ne.{ended.pid}.0badcafe.part"  # another host's
        for part in (keep, gone, elsewhere):
            part.write_bytes(b"x")
        data.download("time_machine")
        assert keep.exists() and not gone.exists() and elsewhere.exists()
    finally:
        live.kill()
        live.wait()


def test_partial_files_of_killed_processes_are_removed_once_stale(cache, mirror):
    cache.mkdir()
    old = cache / "timemachine.txt.999.deadbeef.part"
    fresh = cache / "timemachine.txt.998.cafecafe.part"  # maybe a live download elsewhere
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    past = time.time() - data.STALE_PART_S - 60
    os.utime(old, (past, past))
    data.download("time_machine")
    assert not old.exists() and fresh.exists()


# --------------------------------------------------------------- the cache on disk

@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_cached_files_follow_the_umask_so_a_shared_cache_works(cache, mirror):
    previous = os.umask(0o022)
    try:
        path = data.download("time_machine")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by the other users


def test_an_unwritable_cache_is_explained(cache, mirror, monkeypatch):
    # (root may write anywhere, so the refusal is simulated where the cache is created)
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(cache))
    monkeypatch.setattr(data.os, "open", refuse)
    with pytest.raises(data.DataError, match=f"{data.CACHE_ENV} to a folder of your own"):
        data.download("time_machine")


def test_an_unreadable_cached_file_is_explained(cache, mirror, monkeypatch):
    data.download("time_machine")
    original = Path.read_bytes

    def refuse(self):
        if self.parent == cache:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)
    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(data.DataError, match="cannot read the cached file"):
        data.download("time_machine")


# --------------------------------------------------------------- where the folders are

def test_relative_folders_are_taken_from_the_course_root_in_any_working_folder(
        tmp_path, monkeypatch, originals):
    monkeypatch.chdir(tmp_path)  # like a notebook kernel, which runs in chapters/
    monkeypatch.setenv(data.CACHE_ENV, "data")
    assert data.cache_dir() == ROOT / "data"
    relative_mirror = os.path.relpath(originals, ROOT)
    monkeypatch.setenv(data.MIRROR_ENV, relative_mirror)
    assert data.mirror_dir() == originals.resolve()


def test_a_missing_mirror_folder_and_a_blank_variable_are_reported_as_such(cache, tmp_path,
                                                                          monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(data.MIRROR_ENV, str(missing))
    with pytest.raises(data.DataError, match=f"names {missing}, which is not a folder"):
        data.download("time_machine")
    monkeypatch.setenv(data.MIRROR_ENV, "  ")
    with pytest.raises(data.DataError, match=f"{data.MIRROR_ENV} is set but empty"):
        data.download("time_machine")
    monkeypatch.setenv(data.MIRROR_ENV, str(tmp_path))
    with pytest.raises(data.DataError, match=f"{tmp_path} has no file jaychou_lyrics.txt.zip"):
        data.download("jay_lyrics")


def test_default_cache_is_data_in_a_checkout(monkeypatch):
    monkeypatch.delenv(data.CACHE_ENV, raising=False)
    assert data.IN_CHECKOUT and data.cache_dir() == ROOT / "data"
