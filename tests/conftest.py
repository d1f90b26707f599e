import random

import pytest
import torch

from course_utils import text


@pytest.fixture(scope="session")
def tm_corpus():
    return text.load_corpus_time_machine()


@pytest.fixture(scope="session")
def lyrics_corpus():
    return text.load_corpus_jay_lyrics(10000)


@pytest.fixture(autouse=True)
def _seeded():
    random.seed(0)
    torch.manual_seed(0)
