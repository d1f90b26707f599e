"""The memory task of chapters 7 and 8: what a batch holds, reproducible training, and a
gated model that learns a short delay."""
import torch
from torch import nn

from course_utils import memory_task


def test_a_batch_is_the_symbol_then_noise_and_the_label_is_the_symbol():
    X, y = memory_task.delay_batch(50, 6, torch.Generator().manual_seed(0))
    assert X.shape == (50, 7) and y.shape == (50,)
    assert torch.equal(X[:, 0], y) and y.max() <= 3  # symbols 0..3 first
    assert X[:, 1:].min() >= 4 and X[:, 1:].max() <= 7  # then noise 4..7, unrelated to the label


def test_the_same_seed_gives_the_same_accuracy_and_the_models_see_the_same_data():
    first = memory_task.train_delay(nn.RNN, seed=3, delay=4, num_updates=5)
    assert first == memory_task.train_delay(nn.RNN, seed=3, delay=4, num_updates=5)
    a = memory_task.delay_batch(8, 4, torch.Generator().manual_seed(3))
    b = memory_task.delay_batch(8, 4, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0])


def test_a_gru_learns_to_carry_the_symbol_over_a_short_delay():
    assert memory_task.train_delay(nn.GRU, seed=0, delay=3, num_updates=150) > 0.9
