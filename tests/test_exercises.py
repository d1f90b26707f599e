"""The helpers that the answer pages share: a fresh model per seed, the same numbers for the
same seed, the state-keeping loader of exercise 7.4, and the mean/range over seeds."""
import pytest
import torch

from course_utils import exercises, models, train


@pytest.fixture(scope="module")
def runs():
    return exercises.LyricsRuns(max_chars=2000, batch_size=8, num_steps=10, num_hiddens=16,
                                device=torch.device("cpu"), eval_chars=300)


def small_rnn(runs):
    return runs.scratch(models.get_rnn_params, models.init_rnn_state, models.rnn)


def test_lyrics_cuts_the_scored_texts_and_keeps_the_training_text(runs):
    corpus, vocab, valid, test = runs.lyrics()
    assert len(valid) == len(test) == 300
    assert len(corpus) == 2000
    hits = exercises._read_lyrics.cache_info().hits
    again = runs.lyrics()  # read once per page, but a fresh copy for every caller
    assert exercises._read_lyrics.cache_info().hits == hits + 1
    assert again[0] == corpus and again[0] is not corpus and again[1] is not vocab
    full = exercises.LyricsRuns(max_chars=2000, batch_size=8, num_steps=10, device=torch.device("cpu"))
    assert len(full.lyrics()[2]) > 300


def test_the_same_seed_trains_the_same_model_and_another_seed_another(runs):
    first = runs.fit(small_rnn(runs), exercises.sgd(1.0), 2, 1.0, seed=1)[1]
    again = runs.fit(small_rnn(runs), exercises.sgd(1.0), 2, 1.0, seed=1)[1]
    other = runs.fit(small_rnn(runs), exercises.sgd(1.0), 2, 1.0, seed=2)[1]
    assert first.perplexity == again.perplexity and first.valid_perplexity == again.valid_perplexity
    assert first.perplexity != other.perplexity
    assert first.perplexity[-1] < 0.9 * len(runs.lyrics()[1])  # it learned something


def test_scratch_uses_the_page_setting_unless_told_otherwise(runs):
    assert runs.scratch(models.get_rnn_params, models.init_rnn_state, models.rnn)(30).num_hiddens == 16
    assert runs.scratch(models.get_rnn_params, models.init_rnn_state, models.rnn, 8)(30).num_hiddens == 8


def test_every_epoch_measures_validation_each_epoch_and_adam_trains(runs):
    _, history = runs.fit(small_rnn(runs), exercises.adam(1e-2), 3, 1.0, every_epoch=True)
    assert history.valid_epochs == [1, 2, 3]
    _, history = runs.fit(small_rnn(runs), exercises.adam(1e-2), 3, 1.0)
    assert history.valid_epochs == [3]


def test_known_only_scores_validation_without_the_unknown_targets():
    settings = dict(max_chars=2000, batch_size=8, num_steps=10, num_hiddens=16,
                    device=torch.device("cpu"), eval_chars=300)
    everything = exercises.LyricsRuns(**settings, known_only=False)
    known = exercises.LyricsRuns(**settings)  # the default: known characters only, as in the chapters
    _, vocab, valid, _ = known.lyrics()
    assert vocab.unk in valid  # 2,000 training characters leave many validation characters unknown
    net, history = known.fit(small_rnn(known), exercises.sgd(1.0), 2, 1.0, seed=1)
    assert history.valid_perplexity[-1] == pytest.approx(train.evaluate_perplexity(
        net, valid, device=torch.device("cpu"), ignore_index=vocab.unk))
    _, plain = everything.fit(small_rnn(everything), exercises.sgd(1.0), 2, 1.0, seed=1)
    assert plain.perplexity == history.perplexity  # the same training, scored two ways
    assert plain.valid_perplexity[-1] > history.valid_perplexity[-1]  # <unk> costs the net a lot
    with pytest.raises(TypeError, match="known_only"):
        exercises.LyricsRuns(**settings, known_only="yes")


def test_keep_state_hands_over_the_same_batches_but_says_they_continue(runs):
    corpus = runs.lyrics()[0]
    loader = exercises.iterators.SeqDataLoader(corpus, 8, 10, use_random_iter=True,
                                               rng=exercises.iterators.random.Random(0))
    kept = exercises.KeepState(loader)
    assert loader.use_random_iter and not kept.use_random_iter
    first = [x.tolist() for x, _ in kept]
    loader.rng.seed(0)
    assert first == [x.tolist() for x, _ in loader]


def test_report_prints_one_line_and_a_diverged_run_readably(capsys):
    history = train.History()
    history.record(1, 3e40, 100.0, 1.0, 0.5)
    history.valid_epochs, history.valid_perplexity = [1], [812.345]
    exercises.report("发散的例子", history)
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and "发散 (> 1e30)" in line and "812.35" in line and "0.50 秒" in line


def test_spread_gives_mean_and_range_and_refuses_no_seeds():
    assert exercises.spread([510.0, 515.0, 536.0]) == (pytest.approx(520.333, abs=1e-3), 510.0, 536.0)
    assert exercises.format_spread(iter([1.0, 2.0, 4.0])) == "平均 2.3（范围 1.0–4.0，3 个种子）"
    with pytest.raises(ValueError, match="at least one seed"):
        exercises.spread([])


def test_settings_are_checked_with_the_parameter_named():
    with pytest.raises(ValueError, match="max_chars"):
        exercises.LyricsRuns(max_chars=0, batch_size=8, num_steps=10, device=torch.device("cpu"))
    with pytest.raises(ValueError, match="eval_chars"):
        exercises.LyricsRuns(max_chars=100, batch_size=8, num_steps=10, device=torch.device("cpu"),
                             eval_chars=-1)


def test_glue_spread_hands_mean_min_and_max_to_the_prose(monkeypatch):
    glued = {}
    monkeypatch.setattr(exercises.results, "glue", lambda name, value: glued.__setitem__(name, value))
    exercises.glue_spread("gru_valid", [3.0, 1.0, 2.0])
    assert glued == {"gru_valid_mean": 2.0, "gru_valid_min": 1.0, "gru_valid_max": 3.0}
