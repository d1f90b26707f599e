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
