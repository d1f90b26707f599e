"""Run configuration: the one place that decides mode, device, seeds and hyperparameters.

Two run modes:
  quick (default)   what CI and nbval run: seconds per notebook, still shows learning.
  full              the books' full-length hyperparameters; switched on by COURSE_FULL=1.

Device: CUDA when present, else CPU. COURSE_DEVICE=cpu|cuda forces one.
"""
import os
import random

import numpy as np
import torch

SEED = 42

# Each chapter's hyperparameters in both modes. A notebook calls hparams(name) and
# prints the result, so the page states the settings it ran with.
_HPARAMS = {
    # Chapter 1: sin(0.01 t) + noise, an MLP on the previous tau values. Training takes well
    # under a second, so the quick run is the full run.
    "seq_model": {
        "full": dict(T=1000, noise_std=0.2, tau=4, n_train=600, num_hiddens=10, batch_size=16,
                     lr=0.01, num_epochs=5, k_steps=[1, 4, 16, 64]),
        "quick": dict(T=1000, noise_std=0.2, tau=4, n_train=600, num_hiddens=10, batch_size=16,
                      lr=0.01, num_epochs=5, k_steps=[1, 4, 16, 64]),
    },
    # Chapter 2: the lyrics prefixes whose vocabularies the page reports (chapters 5-6 and 7
    # train on them) and the min_freq of its rare-token example. Nothing to train.
    "text_preprocessing": {
        "full": dict(lyrics_max_chars=[10000, 20000], min_freq=5),
        "quick": dict(lyrics_max_chars=[10000, 20000], min_freq=5),
    },
    # Chapter 3: the add-k bigram baseline. k is chosen from k_grid on validation text (lyrics:
    # text.LYRICS_VALID; time machine: the last valid_fraction of its training part), then
    # the model is refit on all training text and scored once on the held-out text.
    # zipf_ranks: the rank window of the Zipf fit. Counting only: quick is full.
    "ngram": {
        "full": dict(k_grid=[0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
                     lyrics_max_chars=[10000, 20000], tm_train_fraction=0.9,
                     valid_fraction=0.1, zipf_ranks=[10, 1000]),
        "quick": dict(k_grid=[0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
                      lyrics_max_chars=[10000, 20000], tm_train_fraction=0.9,
                      valid_fraction=0.1, zipf_ranks=[10, 1000]),
    },
    # Chapter 4: gradient norms through time in a tanh RNN whose recurrent matrix is gamma
    # times an orthogonal matrix (gamma < 1 shrinks, gamma > 1 stretches), over `repeats` draws.
    "rnn_concepts": {
        "full": dict(num_hiddens=64, input_dim=16, batch_size=8, gammas=[0.5, 1.0, 3.0],
                     seq_lens=[5, 10, 20, 40, 80], clip_theta=1.0, repeats=20),
        "quick": dict(num_hiddens=64, input_dim=16, batch_size=8, gammas=[0.5, 1.0, 3.0],
                      seq_lens=[5, 10, 20, 40, 80], clip_theta=1.0, repeats=3),
    },
    # Chapter 5 (seed 000): RNN from scratch on the first 10,000 lyrics characters.
    # valid_period: epochs between held-out evaluations; time_repeats: timing repetitions.
    "rnn_scratch": {
        "full": dict(max_chars=10000, num_hiddens=256, batch_size=32, num_steps=35,
                     num_epochs=250, lr=1e2, clip_theta=1e-2, pred_period=50, pred_len=50,
                     valid_period=10, temperatures=[0.5, 1.0, 1.5], time_repeats=10),
        "quick": dict(max_chars=10000, num_hiddens=256, batch_size=32, num_steps=35,
                      num_epochs=5, lr=1e2, clip_theta=1e-2, pred_period=5, pred_len=50,
                      valid_period=2, temperatures=[0.5, 1.0, 1.5], time_repeats=2),
    },
    # Chapter 6 (seed 000): nn.RNN with Adam. time_epochs: epochs timed per model.
    "rnn_concise": {
        "full": dict(max_chars=10000, num_hiddens=256, batch_size=32, num_steps=35,
                     num_epochs=250, lr=1e-3, clip_theta=1e-2, pred_period=50, pred_len=50,
                     valid_period=10, time_epochs=3),
        "quick": dict(max_chars=10000, num_hiddens=256, batch_size=32, num_steps=35,
                      num_epochs=5, lr=1e-3, clip_theta=1e-2, pred_period=5, pred_len=50,
                      valid_period=2, time_epochs=1),
    },
    # Chapter 7 (seed 002): GRU on the first 20,000 lyrics characters, sequential partitioning.
    # Scratch GRU: SGD on the mean loss with lr, clip_theta, and lr_late after lr_decay_epoch
    # epochs (seed 002's lr 0.2 / clip 5 act on the loss summed over 35 x 32 tokens; chapter 7
    # converts them and shows the measured sweep). lr_concise: Adam for nn.GRU (same clipping),
    # trained for concise_epochs: Adam gets there in half the epochs (measured: 1.06 at epoch
    # 120, 1.04 at 200), and the one-hot input makes nn.GRU the slowest model on a CPU.
    # valid_period: epochs between held-out evaluations; gate_chars: training characters
    # read to average the update gate by position.
    "gru": {
        "full": dict(max_chars=20000, num_hiddens=256, batch_size=32, num_steps=35,
                     num_epochs=200, lr=3.0, clip_theta=1.0, lr_late=1.0, lr_decay_epoch=150,
                     lr_concise=1e-3, concise_epochs=100, pred_period=40, pred_len=50,
                     valid_period=10, gate_chars=6000),
        "quick": dict(max_chars=20000, num_hiddens=64, batch_size=32, num_steps=35,
                      num_epochs=3, lr=3.0, clip_theta=1.0, lr_late=1.0, lr_decay_epoch=2,
                      lr_concise=1e-3, concise_epochs=3, pred_period=3, pred_len=50,
                      valid_period=3, gate_chars=1500),
    },
    # Chapter 8: the small training runs behind the exercise answers. num_epochs: SGD runs of
    # the scratch RNN (chapter 5's lr 100, clip 0.01); adam_epochs: the Adam runs, with
    # adam_lr for the scratch GRU variants and concise_lr for nn.RNN (clip 1);
    # small_hiddens/embed_sizes: exercise variants; eval_chars: how much of the validation
    # and held-out text is scored (None: all of it); ar_epochs: chapter 1's sine MLP.
    "quiz_answers": {
        "full": dict(max_chars=10000, batch_size=32, num_steps=35, num_hiddens=256,
                     num_epochs=30, adam_epochs=15, adam_lr=1e-2, concise_lr=3e-3,
                     small_hiddens=64, embed_sizes=[32, 256], eval_chars=None, ar_epochs=5),
        "quick": dict(max_chars=4000, batch_size=32, num_steps=35, num_hiddens=64,
                      num_epochs=2, adam_epochs=2, adam_lr=1e-2, concise_lr=3e-3,
                      small_hiddens=16, embed_sizes=[32, 256], eval_chars=500, ar_epochs=1),
    },
}


def _env_choice(name, allowed, default):
    """Read an environment variable that must be one of `allowed` (never ignore a typo)."""
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not understood; use one of {sorted(allowed)} "
                         f"or unset it (default: {default!r}).")
    return value


def is_full():
    """True when COURSE_FULL=1 asks for the books' full-length runs."""
    return _env_choice("COURSE_FULL", {"0", "1"}, "0") == "1"


def mode():
    return "full" if is_full() else "quick"


def device():
    """The torch device to train on: CUDA when present (or asked for), else CPU."""
    wanted = _env_choice("COURSE_DEVICE", {"cpu", "cuda"}, "auto")
    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("COURSE_DEVICE=cuda but no CUDA GPU is visible to torch "
                           f"(torch {torch.__version__}); unset COURSE_DEVICE or set it to cpu.")
    if wanted == "cpu":
        return torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def openmp_wait():
    """How torch's OpenMP threads wait for work in this process, as set by the environment
    (read when torch loads; the runners set it: see course_utils/notebooks.py)."""
    if os.environ.get("OMP_WAIT_POLICY"):
        return f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}"
    return f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', '(default)')}"


def hparams(name):
    """Hyperparameters of one chapter for the current mode, as a fresh dict."""
    if name not in _HPARAMS:
        raise KeyError(f"no hyperparameters named {name!r}; known: {sorted(_HPARAMS)}")
    return dict(_HPARAMS[name][mode()])


def set_seed(seed=SEED):
    """Seed Python, NumPy and torch so that a notebook repeats its numbers on the same machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


def describe():
    """One line for the top of each notebook: what this run is."""
    return (f"mode={mode()} device={device()} torch={torch.__version__} "
            f"threads={torch.get_num_threads()} seed={SEED}")
