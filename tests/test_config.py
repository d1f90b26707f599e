import random

import numpy as np
import pytest
import torch

from course_utils import config


def test_quick_is_default(monkeypatch):
    monkeypatch.delenv("COURSE_FULL", raising=False)
    assert config.mode() == "quick" and not config.is_full()


def test_full_switch(monkeypatch):
    monkeypatch.setenv("COURSE_FULL", "1")
    assert config.mode() == "full"
    assert config.hparams("rnn_scratch")["num_epochs"] == 250  # seed 000's setting
    monkeypatch.setenv("COURSE_FULL", "0")
    assert config.hparams("rnn_scratch")["num_epochs"] < 250


@pytest.mark.parametrize("value", ["yes", "true", "2"])
def test_bad_full_value_is_an_error(monkeypatch, value):
    monkeypatch.setenv("COURSE_FULL", value)
    with pytest.raises(ValueError, match="COURSE_FULL"):
        config.mode()


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


def test_hparams_unknown_and_fresh_copy():
    with pytest.raises(KeyError, match="known"):
        config.hparams("lstm")
    h = config.hparams("gru")
    h["lr"] = -1
    assert config.hparams("gru")["lr"] != -1


def test_every_chapter_has_both_modes_with_same_keys():
    for name, modes in config._HPARAMS.items():
        assert set(modes) == {"quick", "full"}, name
        assert set(modes["quick"]) == set(modes["full"]), name


def test_set_seed_repeats_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()
    config.set_seed(7)
    first = draw()
    config.set_seed(7)
    assert draw() == first


def test_describe_names_mode_and_device(monkeypatch):
    monkeypatch.delenv("COURSE_FULL", raising=False)
    line = config.describe()
    assert "mode=quick" in line and "device=" in line and torch.__version__ in line


def test_openmp_wait_reports_the_environment(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.setenv("GOMP_SPINCOUNT", "1000")
    assert config.openmp_wait() == "OMP_WAIT_POLICY=PASSIVE"  # PASSIVE wins: no spinning at all
    monkeypatch.delenv("OMP_WAIT_POLICY")
    assert config.openmp_wait() == "GOMP_SPINCOUNT=1000"
    monkeypatch.delenv("GOMP_SPINCOUNT")
    assert config.openmp_wait() == "GOMP_SPINCOUNT=(default)"
