import random

import numpy as np
import pytest
import torch

from course_utils import config


def test_quick_is_default_and_full_is_switched_on_by_the_environment(monkeypatch):
    monkeypatch.delenv("COURSE_FULL", raising=False)
    assert not config.is_full()
    monkeypatch.setenv("COURSE_FULL", "1")
    assert config.is_full()
    monkeypatch.setenv("COURSE_FULL", "0")
    assert not config.is_full()


@pytest.mark.parametrize("value", ["yes", "true", "2"])
def test_bad_full_value_is_an_error(monkeypatch, value):
    monkeypatch.setenv("COURSE_FULL", value)
    with pytest.raises(ValueError, match="COURSE_FULL"):
        config.is_full()


def test_device_default_and_forced(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert config.device().type == expected
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert config.device().type == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match="COURSE_DEVICE"):
        config.device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without a GPU")
def test_cuda_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        config.device()


def test_set_seed_repeats_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()
    config.set_seed(7)
    first = draw()
    config.set_seed(7)
    assert draw() == first


def test_about_run_says_which_run_and_lists_the_settings(capsys):
    config.about_run(True, "cpu", num_epochs=250)
    full = capsys.readouterr().out
    assert full.startswith("完整运行") and "num_epochs = 250" in full and "cpu" in full
    config.about_run(False, "cpu", num_epochs=5)
    quick = capsys.readouterr().out
    assert quick.startswith("快速运行") and "不同" in quick and "num_epochs = 5" in quick
    for full in (True, False):  # a page that only reads committed results says so in both modes
        config.about_run(full, "cpu", trains=False)
        reads = capsys.readouterr().out
        assert reads.startswith("这一页不训练模型") and "同样的数字" in reads and "不同" not in reads
    with pytest.raises(TypeError, match="full must be True or False"):
        config.about_run("yes", "cpu")
