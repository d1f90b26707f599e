import shutil

import pytest

from course_utils import data, reference, text


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
    assert vocab.unknown(["a", "x", "y", "x"]) == ["x", "y"]
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
    assert len(vocab) == 1027 + 1  # seed 000's 1027 characters, plus <unk>
    assert "\n" not in vocab.token_to_idx
    assert "".join(vocab.to_tokens(corpus[:6])) == "想要有直升机"
    assert len(text.read_jay_lyrics()) > 60000 and len(text.read_jay_lyrics(20)) == 20


def test_lyrics_heldout_is_after_every_training_prefix(lyrics_corpus):
    corpus, vocab = lyrics_corpus
    held = text.lyrics_heldout(vocab)
    assert len(held) == 2000
    assert text.LYRICS_HELDOUT.start >= 20000  # the longest training prefix (chapter 7)
    assert vocab.unk in held  # characters the 10,000-char vocabulary never saw


def test_lyrics_valid_is_apart_from_training_and_heldout(lyrics_corpus):
    corpus, vocab = lyrics_corpus
    valid, held = text.LYRICS_VALID, text.LYRICS_HELDOUT
    assert valid.start >= 20000 and (valid.start >= held.stop or valid.stop <= held.start)
    ids = text.lyrics_valid(vocab)
    assert len(ids) == valid.stop - valid.start
    chars = text.read_jay_lyrics()[valid]
    assert [vocab.to_tokens(i) for i, ch in zip(ids, chars) if ch in vocab.token_to_idx] == \
        [ch for ch in chars if ch in vocab.token_to_idx]
    assert ids != text.lyrics_heldout(vocab)[:len(ids)]
