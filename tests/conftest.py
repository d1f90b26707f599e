import os
import random

# Before torch loads (here, and in the notebook kernels nbval starts): OpenMP threads that
# sleep instead of spinning while they wait; spinning made tests 10x+ slower whenever
# another process used the cores (see Makefile).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402
import torch  # noqa: E402

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
