"""Tokenization, vocabulary and the two corpora of the course."""
import collections
import re

from . import data

LYRICS_HELDOUT = slice(20000, 22000)  # never trained on: the shared held-out text of chapters 3-7
# Text for choosing settings (e.g. the n-gram baseline's smoothing constant in chapter 3):
# outside every training prefix and apart from the held-out text, which stays a clean test.
LYRICS_VALID = slice(22000, 24000)


def tokenize(lines, token="word"):
    """Split each line into words (on white space) or into characters."""
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"unknown token type {token!r}; use 'word' or 'char'")


def count_corpus(tokens):
    """Token frequencies; `tokens` is a flat list or a list of token lists."""
    if tokens and isinstance(tokens[0], list):
        tokens = [tok for line in tokens for tok in line]
    return collections.Counter(tokens)


class Vocab:
    """Maps tokens to indices and back. Index 0 is '<unk>', then reserved tokens,
    then every token seen at least `min_freq` times, most frequent first."""

    def __init__(self, tokens=(), min_freq=0, reserved_tokens=()):
        counter = count_corpus(list(tokens))
        # sorted() is stable: equally frequent tokens keep their first-seen order.
        self.token_freqs = sorted(counter.items(), key=lambda kv: kv[1], reverse=True)
        self.idx_to_token = ["<unk>"] + list(reserved_tokens)
        self.token_to_idx = {tok: i for i, tok in enumerate(self.idx_to_token)}
        for tok, freq in self.token_freqs:
            if freq < min_freq:
                break
            if tok not in self.token_to_idx:
                self.token_to_idx[tok] = len(self.idx_to_token)
                self.idx_to_token.append(tok)

    unk = 0

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        """Index of a token, or nested lists of indices for nested lists of tokens."""
        if isinstance(tokens, (list, tuple)):
            return [self[tok] for tok in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        if isinstance(indices, (list, tuple)):
            return [self.to_tokens(i) for i in indices]
        return self.idx_to_token[int(indices)]

    def unknown(self, tokens):
        """The tokens (in order, without repeats) that this vocabulary does not contain."""
        return list(dict.fromkeys(t for t in tokens if t not in self.token_to_idx))


def read_time_machine():
    """The book's lines, lower-cased, with every run of non-letters replaced by one space."""
    lines = data.read_text("time_machine").splitlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


def load_corpus_time_machine(max_tokens=-1, token="char"):
    """(corpus indices, vocab) of the time machine; characters give the 28-token vocabulary."""
    tokens = tokenize(read_time_machine(), token)
    vocab = Vocab(tokens)
    # Lines are joined without a separator, as in the book, so the indices match d2l's.
    corpus = [vocab[tok] for line in tokens for tok in line]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


def read_jay_lyrics(max_chars=None):
    """The lyrics as one string, line breaks turned into spaces, optionally cut to a prefix."""
    text = data.read_text("jay_lyrics").replace("\n", " ").replace("\r", " ")
    return text if max_chars is None else text[:max_chars]


def load_corpus_jay_lyrics(max_chars=10000):
    """(corpus indices, vocab) of the first `max_chars` lyrics characters (seeds: 10,000 or 20,000)."""
    chars = list(read_jay_lyrics(max_chars))
    vocab = Vocab(chars)
    return vocab[chars], vocab


def lyrics_heldout(vocab):
    """Indices of the held-out lyrics text (characters 20,000-22,000) under `vocab`;
    characters the vocabulary never saw become '<unk>'."""
    return vocab[list(read_jay_lyrics()[LYRICS_HELDOUT])]


def lyrics_valid(vocab):
    """Indices of the lyrics validation text (characters 22,000-24,000) under `vocab`:
    for choosing settings, so that the held-out text is never looked at before the end."""
    return vocab[list(read_jay_lyrics()[LYRICS_VALID])]
