import shutil

import pytest

from course_utils import data, text
from tools import reference


def test_tokenize_words_and_chars():
    lines = ["the time machine", "by h g wells"]
    assert text.tokenize(lines, "word") == [["the", "time", "machine"], ["by", "h", "g", "wells"]]
    assert text.tokenize(["ab c"], "char") == [["a", "b", " ", "c"]]
    with pytest.raises(ValueError, match="word.*char"):
        text.tokenize(lines, "byte")


def test_vocab_order_unk_reserved_and_min_freq():
    tokens = [["b", "a", "b"], ["c", "b", "a", "d"]]
    vocab = text.Vocab(tokens, min_freq=2, reserved_tokens=["<pad>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "b", "a"]  # c and d are too rare
    assert vocab["b"] == 2 and vocab["zzz"] == vocab.unk == 0
    assert vocab[[["b", "a"], ["d"]]] == [[2, 3], [0]]
    assert vocab.to_tokens([2, 3]) == ["b", "a"] and vocab.to_tokens(1) == "<pad>"
    assert vocab.token_freqs[0] == ("b", 3)
    assert len(vocab) == 4


def test_count_corpus_flat_and_nested():
    assert text.count_corpus(["a", "b", "a"])["a"] == 2
    assert text.count_corpus([["a"], ["a", "b"]])["a"] == 2
    assert text.count_corpus([]) == {}


def test_time_machine_has_28_chars(tm_corpus):
    corpus, vocab = tm_corpus
    assert len(vocab) == 28 and vocab.idx_to_token[:3] == ["<unk>", " ", "e"]
    assert len(corpus) == 170580
    assert "".join(vocab.to_tokens(corpus[:16])) == "the time machine"
    assert text.load_corpus_time_machine(max_tokens=100)[0] == corpus[:100]


def test_time_machine_words():
    words, vocab = text.load_corpus_time_machine(token="word")
    assert vocab.idx_to_token[1:4] == ["the", "i", "and"]


def test_same_vocab_and_indices_as_d2l(tm_corpus, tmp_path, monkeypatch):
    d2l = reference.import_d2l()
    # d2l caches in ../data relative to the working directory: hand it our verified copy.
    (tmp_path / "data").mkdir()
    shutil.copy(data.download("time_machine"), tmp_path / "data" / "timemachine.txt")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    ref_corpus, ref_vocab = d2l.load_corpus_time_machine()
    corpus, vocab = tm_corpus
    assert vocab.idx_to_token == ref_vocab.idx_to_token
    assert corpus == ref_corpus
    ref_words = d2l.Vocab(d2l.tokenize(d2l.read_time_machine(), "word"))
    ours = text.Vocab(text.tokenize(text.read_time_machine(), "word"))
    assert ours.idx_to_token == ref_words.idx_to_token


def test_lyrics_corpus(lyrics_corpus):
    corpus, vocab = lyrics_corpus
    assert len(corpus) == 10000
    assert len(vocab) == 1027 + 1  # the 1,027 characters the first edition reports, plus <unk>
    assert "\n" not in vocab.token_to_idx
    assert "".join(vocab.to_tokens(corpus[:6])) == "想要有直升机"
    assert len(text.read_jay_lyrics()) == 20000 and len(text.read_jay_lyrics(20)) == 20
    assert len(text.read_jay_lyrics(whole_file=True)) == 63282


def test_test_and_validation_text_lie_after_every_training_prefix(lyrics_corpus):
    corpus, vocab = lyrics_corpus
    test, valid = text.LYRICS_TEST, text.LYRICS_VALID
    assert test.start >= text.LYRICS_TRAIN_CHARS and valid.start >= text.LYRICS_TRAIN_CHARS
    assert valid.start >= test.stop or valid.stop <= test.start  # apart from each other
    whole = text.read_jay_lyrics(whole_file=True)
    for ids, part in ((text.lyrics_test(vocab), test), (text.lyrics_valid(vocab), valid)):
        chars = whole[part]
        assert len(ids) == len(chars) == 2000
        assert vocab.to_tokens(ids) == [ch if ch in vocab.token_to_idx else "<unk>" for ch in chars]
    assert vocab.unk in text.lyrics_test(vocab)  # characters the 10,000-char vocabulary never saw
    # the longest training text allowed stops where the test text starts
    assert text.read_jay_lyrics(text.LYRICS_TRAIN_CHARS) == whole[:test.start]
