"""The one training recipe (chapter 9) and the model it trains."""
import pytest
import torch
from torch import nn

from course_utils import compare, models, text, train

CPU = torch.device("cpu")


def lyrics_like():
    chars = list("abcabcabdabcabcabd" * 30)
    vocab = text.Vocab(chars)
    valid = vocab[list("abcabdxabcabd")]  # x: a character the training text never had
    test = vocab[list("abdabcyabcabc")]
    return vocab[chars], vocab, valid, test


def test_embedding_model_shapes_dropout_and_modes():
    torch.manual_seed(0)
    net = models.EmbeddingRNNModel(nn.GRU(8, 16, num_layers=2, dropout=0.3), 10, dropout=0.5)
    X = torch.randint(0, 10, (4, 6))
    out, state = net(X, net.begin_state(4, CPU))
    assert out.shape == (6 * 4, 10) and state.shape == (2, 4, 16)
    assert net.embedding.weight.shape == (10, 8)
    net.eval()
    a, _ = net(X, net.begin_state(4, CPU))
    b, _ = net(X, net.begin_state(4, CPU))
    assert torch.equal(a, b)  # no dropout at evaluation
    net.train()
    c, _ = net(X, net.begin_state(4, CPU))
    assert not torch.equal(a, c)
    with pytest.raises(ValueError, match="dropout must be below 1"):
        models.EmbeddingRNNModel(nn.GRU(8, 16), 10, dropout=1.0)
    with pytest.raises(ValueError, match="dropout"):
        models.EmbeddingRNNModel(nn.GRU(8, 16), 10, dropout=-0.1)


def test_fit_chooses_on_validation_and_reports_test_once_on_known_characters():
    corpus, vocab, valid, test = lyrics_like()
    recipe = compare.Recipe(lr=1e-2, batch_size=4, num_steps=8, max_epochs=15, patience=2)

    def make_net():
        return models.EmbeddingRNNModel(nn.GRU(8, 16), len(vocab), dropout=0.1)
    metrics, history = compare.fit(make_net, corpus, vocab, valid, test, recipe, seed=3, device=CPU)
    assert metrics["valid_perplexity"] == min(history.valid_perplexity)
    assert metrics["best_epoch"] == history.best_epoch
    assert history.valid_epochs == list(range(1, metrics["epochs_trained"] + 1))
    # the reported test score is the best epoch's parameters, unknown characters left out
    net = make_net()
    train.load_params(net, history.best_params)
    assert metrics["test_perplexity"] == pytest.approx(
        train.evaluate_perplexity(net, test, device=CPU, ignore_index=vocab.unk))
    again, _ = compare.fit(make_net, corpus, vocab, valid, test, recipe, seed=3, device=CPU)
    assert again["test_perplexity"] == metrics["test_perplexity"]  # same seed, same numbers


def test_paired_differences():
    assert compare.paired_differences([5, 7, 9], [6, 6, 10]) == (-1 / 3, -1, 1, 2)
    with pytest.raises(ValueError, match="one result per seed"):
        compare.paired_differences([1, 2], [1])
