"""Argument checks shared by the course's functions: one line at the top of a function
rejects a value it cannot honestly work with, naming the parameter and what is allowed."""
import math
import numbers


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(name, value, maximum=None, hint=""):
    """`value` must be an int >= 1 (and <= maximum when given)."""
    if not _is_int(value):
        raise TypeError(f"{name} must be a positive integer, got {value!r} "
                        f"({type(value).__name__}){hint}")
    if value < 1 or (maximum is not None and value > maximum):
        allowed = f"1..{maximum:,}" if maximum is not None else ">= 1"
        raise ValueError(f"{name} must be in {allowed}, got {value:,}{hint}")
    return int(value)


def nonnegative_int(name, value):
    """`value` must be an int >= 0."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer >= 0, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def _real(name, value, allowed):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number {allowed}, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number {allowed}, got {value}")
    return float(value)


def positive_number(name, value, hint=""):
    """`value` must be a finite real number > 0."""
    value = _real(name, value, "> 0")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}{hint}")
    return value


def nonnegative_number(name, value, hint=""):
    """`value` must be a finite real number >= 0."""
    value = _real(name, value, ">= 0")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}{hint}")
    return value


def probability(name, value):
    """`value` must be a finite real number in [0, 1]."""
    value = _real(name, value, "in [0, 1]")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def index(name, value, length):
    """`value` must be an integer index into a sequence of `length` items (no negatives)."""
    if not _is_int(value):
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # a 0-d tensor or array
            value = value.item()
        if not _is_int(value):
            raise TypeError(f"{name} must hold integer indices, got {value!r} ({type(value).__name__})")
    if not 0 <= value < length:
        raise ValueError(f"{name}: index {value} is out of range 0..{length - 1}")
    return int(value)


def reserved_tokens(name, tokens, unk):
    """Reserved tokens must be distinct and must not repeat the unknown token (index 0)."""
    if isinstance(tokens, str):
        raise TypeError(f"{name} must be a list of tokens such as ['<pad>'], got the string "
                        f"{tokens!r} (a string would be one token per character)")
    tokens = list(tokens)
    if unk in tokens:
        raise ValueError(f"{name} must not contain {unk!r}: the vocabulary always has it at "
                         f"index 0; remove it from {name}")
    repeated = sorted({t for t in tokens if tokens.count(t) > 1})
    if repeated:
        raise ValueError(f"{name} lists {repeated} more than once; give each token once")
    return tokens


def batch_shape(corpus, batch_size, num_steps):
    """A minibatch iterator needs positive integer sizes and a corpus long enough for one
    full minibatch after the largest random offset (num_steps tokens); a shorter corpus
    would silently give an empty epoch."""
    positive_int("batch_size", batch_size)
    positive_int("num_steps", num_steps)
    needed = batch_size * num_steps + num_steps + 1
    if len(corpus) < needed:
        raise ValueError(f"a corpus of {len(corpus)} tokens is too short for one minibatch of "
                         f"batch_size={batch_size} x num_steps={num_steps} after a random offset "
                         f"(needs at least {needed} tokens); use a smaller batch_size or num_steps.")


def boolean(name, value):
    """`value` must be True or False (a string such as 'no' is truthy and would mean True)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return value


def seed(name, value):
    """A random seed every generator accepts: an int in 0..2**32 - 1 (NumPy's range)."""
    if not _is_int(value) or not 0 <= value < 2 ** 32:
        kind = TypeError if not _is_int(value) else ValueError
        raise kind(f"{name} must be an integer in 0..{2 ** 32 - 1:,} (the range NumPy accepts), "
                   f"got {value!r} ({type(value).__name__}); nothing was reseeded")
    return int(value)


def token_ids(name, ids, vocab_size=None, min_len=0, hint=""):
    """`ids` must be a sequence of integer token ids in 0..vocab_size - 1 (when vocab_size is
    known), at least min_len long. Returns the ids unchanged."""
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise TypeError(f"{name} must be a list of token ids, got {type(ids).__name__}"
                        f"{' ' + repr(ids[:20]) if isinstance(ids, str) else ''}; encode a text "
                        f"with its vocabulary first: vocab[list(text)]")
    if len(ids) < min_len:
        raise ValueError(f"{name} needs at least {min_len} tokens, got {len(ids)}")
    values = ids.tolist() if hasattr(ids, "tolist") else ids
    wrong = next((t for t in values if not _is_int(t)), None)
    if wrong is not None:
        raise TypeError(f"{name} must hold integer token ids, got {wrong!r} "
                        f"({type(wrong).__name__}); encode the text with vocab[...] first")
    if len(values):
        low, high = min(values), max(values)
        limit = vocab_size if vocab_size is not None else high + 1
        if low < 0 or high >= limit:
            bad = low if low < 0 else high
            hint = hint or (f" (the model has vocab_size={vocab_size})" if vocab_size else "")
            raise ValueError(f"{name} holds token id {bad}, outside 0..{limit - 1}{hint}: encode "
                             f"it with the vocabulary the model was built for")
    return ids


def device(name, value):
    """A torch device that exists on this machine (torch.device('cuda') needs a visible GPU)."""
    import torch
    try:
        dev = torch.device(value)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"{name}={value!r} is not a torch device ({err}); use config.device() "
                         f"or torch.device('cpu')") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{name}={value!r} asks for a CUDA GPU but torch sees none "
                           f"(torch {torch.__version__}); use config.device(), which picks the "
                           f"GPU when there is one and the CPU otherwise")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise RuntimeError(f"{name}={value!r}: there are only {torch.cuda.device_count()} "
                           f"CUDA device(s); use config.device()")
    return dev


def net_and_device(net, vocab_size, device_):
    """The model was built for exactly vocab_size tokens (when it says, as the course's models
    do in net.vocab_size) and the device exists."""
    device("device", device_)
    built = getattr(net, "vocab_size", None)
    if built is not None and built != vocab_size:
        raise ValueError(f"the net was built for vocab_size={built} tokens but the vocabulary "
                         f"has {vocab_size}: build the net with len(vocab) of the vocabulary "
                         f"that encoded its text")


def temperature(name, value, minimum=1e-4):
    """0 (always the most likely token) or a temperature >= minimum: below it, logits / value
    overflow to infinity (and sampling is as good as greedy long before)."""
    value = nonnegative_number(name, value)
    if 0 < value < minimum:
        raise ValueError(f"{name}={value} is too small: logits / {name} overflow; use {name}=0 "
                         f"for the most likely token (what a tiny temperature tends to) or a "
                         f"value >= {minimum}")
    return value


def prefix(prefix_, vocab):
    """A prefix to generate from: non-empty, every token in the vocabulary. Returns its tokens."""
    tokens = list(prefix_)
    if not tokens:
        raise ValueError("the prefix is empty; give at least one character to start from")
    missing = list(dict.fromkeys(t for t in tokens if t not in vocab.token_to_idx))
    if missing:
        raise ValueError(f"prefix {prefix_!r} has characters outside the vocabulary: {missing}. "
                         f"Use characters from the training text (vocab.idx_to_token).")
    return tokens


def vocab_size(value, corpus, name="vocab_size"):
    """A count model's vocabulary must hold every distinct token of the text it counts or
    scores: with fewer, its probabilities do not sum to 1 over the tokens that occur."""
    positive_int(name, value)
    distinct = len(set(corpus))
    if distinct > value:
        raise ValueError(f"the text has {distinct} distinct tokens but {name}={value}: the "
                         f"model's probabilities would not sum to 1; use len(vocab) of the "
                         f"vocabulary that encoded the text")
    return int(value)


def _parameters(updater):
    """The tensors an optimizer updates (torch.optim or the course's SGD); None if unknown."""
    if hasattr(updater, "param_groups"):
        return [p for group in updater.param_groups for p in group["params"]]
    params = getattr(updater, "params", None)
    return list(params) if params is not None else None


def training(net, train_iter, vocab, updater, num_epochs, *, device, clip_theta, prefixes,
             pred_period, pred_len, valid_corpus, valid_period, valid_batch_size, ignore_index,
             patience, log, progress):
    """Every argument of train.train, checked before the first step (a bad one found after
    some epochs would lose them). Returns valid_period (pred_period when None)."""
    positive_int("num_epochs", num_epochs)
    positive_int("pred_period", pred_period)
    valid_period = positive_int("valid_period",
                                pred_period if valid_period is None else valid_period)
    positive_number("clip_theta", clip_theta)
    nonnegative_int("pred_len", pred_len)
    positive_int("valid_batch_size", valid_batch_size)
    if patience is not None:
        positive_int("patience", patience, hint="; None trains every epoch")
    net_and_device(net, len(vocab), device)
    if isinstance(prefixes, str) or not hasattr(prefixes, "__iter__"):
        why = " (a string would be one prefix per character)" if isinstance(prefixes, str) else ""
        raise TypeError(f"prefixes must be a list of prefixes such as ['分开'], got "
                        f"{prefixes!r}{why}")
    for text in prefixes:
        prefix(text, vocab)
    if not hasattr(train_iter, "use_random_iter") or not hasattr(train_iter, "__iter__"):
        raise TypeError(f"train_iter must be a loader such as iterators.SeqDataLoader "
                        f"(re-iterable, with use_random_iter), got {type(train_iter).__name__}")
    if hasattr(train_iter, "__next__") and num_epochs > 1:
        raise TypeError("train_iter is a one-pass iterator: the second epoch would get no "
                        "minibatches; give a loader such as iterators.SeqDataLoader")
    if hasattr(train_iter, "corpus"):
        token_ids("train_iter.corpus", train_iter.corpus, len(vocab),
                  hint=f" (len(vocab) = {len(vocab)})")
    if not all(callable(getattr(updater, m, None)) for m in ("step", "zero_grad")):
        raise TypeError(f"updater must have step() and zero_grad() (train.SGD or a torch.optim "
                        f"optimizer), got {type(updater).__name__}")
    updated, own = _parameters(updater), {id(p) for p in net.parameters()}
    if updated is not None and not any(id(p) in own for p in updated):
        raise ValueError("the updater holds none of the net's parameters (was it built for "
                         "another net?): training would change nothing; build it with "
                         "net.parameters()")
    if updated is not None and not all(id(p) in own for p in updated):
        raise ValueError("the updater holds tensors that are not the net's parameters (was it "
                         "built for another net?); build it with net.parameters()")
    if ignore_index is not None:
        index("ignore_index", ignore_index, len(vocab))
    if valid_corpus is not None:
        token_ids("valid_corpus", valid_corpus, len(vocab), min_len=valid_batch_size + 1,
                  hint=f" (len(vocab) = {len(vocab)})")
        if ignore_index is not None and all(t == ignore_index for t in list(valid_corpus)[1:]):
            raise ValueError(f"every target of valid_corpus equals ignore_index={ignore_index}: "
                             f"nothing to score")
    if log is not None and not callable(log):
        raise TypeError(f"log must be a function such as print, or None, got {log!r}")
    if progress is not None:
        boolean("progress", progress)
    return valid_period
