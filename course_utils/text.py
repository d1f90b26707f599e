"""词元化、词表与课程的两份语料（第 2 章讲授这些代码）。"""
import collections
import re

from . import checks, data

# 歌词文件的三段用途不同，训练永远不能读到后两段：
LYRICS_TRAIN_CHARS = 20000        # 训练文本最多取前 20,000 个字符（第 5、6 章取前 10,000 个）
LYRICS_TEST = slice(20000, 22000)  # 测试文本：只在最后报告一次成绩
LYRICS_VALID = slice(22000, 24000)  # 验证文本：用来做选择（平滑常数、迭代周期、超参数）


def tokenize(lines, token="word"):
    """把每一行切成单词（按空白）或单个字符。"""
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"unknown token type {token!r}; use 'word' or 'char'")


def count_corpus(tokens):
    """统计词元的出现次数；tokens 是一维列表，或由词元列表组成的列表。"""
    if tokens and isinstance(tokens[0], list):
        tokens = [tok for line in tokens for tok in line]
    return collections.Counter(tokens)


class Vocab:
    """词元与索引的双向映射。索引 0 是 '<unk>'，接着是预留词元，
    再按出现次数从多到少排列出现至少 min_freq 次的词元（min_freq 为 0 或 1 时保留全部词元）。"""
    unk = 0

    def __init__(self, tokens=(), min_freq=0, reserved_tokens=()):
        checks.nonnegative_number("min_freq", min_freq)
        checks.reserved_tokens("reserved_tokens", reserved_tokens, unk="<unk>")
        counter = count_corpus(list(tokens))
        # sorted() 是稳定排序：次数相同的词元保持第一次出现的先后顺序
        self.token_freqs = sorted(counter.items(), key=lambda kv: kv[1], reverse=True)
        reserved = ["<unk>"] + list(reserved_tokens)
        self.idx_to_token = reserved + [tok for tok, freq in self.token_freqs
                                        if freq >= min_freq and tok not in reserved]
        self.token_to_idx = {tok: i for i, tok in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        """一个词元的索引；嵌套的词元列表得到同样嵌套的索引列表。没见过的词元映射到 <unk>。"""
        if isinstance(tokens, (list, tuple)):
            return [self[tok] for tok in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        """索引（或索引列表）还原成词元。"""
        if isinstance(indices, (list, tuple)):
            return [self.to_tokens(i) for i in indices]
        return self.idx_to_token[checks.index("indices", indices, len(self))]


def read_time_machine():
    """《时间机器》的各行：每段非字母字符换成一个空格，再转成小写。"""
    lines = data.read_text("time_machine").splitlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


def load_corpus_time_machine(max_tokens=None, token="char"):
    """（索引序列, 词表）。按字符切分时词表有 28 个词元；max_tokens 只保留开头的一段。"""
    if max_tokens is not None:
        checks.positive_int("max_tokens", max_tokens, hint="; None keeps the whole book")
    tokens = tokenize(read_time_machine(), token)
    vocab = Vocab(tokens)
    # 各行首尾相接、不加分隔符（与《动手学深度学习》相同，因此索引与 d2l 的一致）
    corpus = [vocab[tok] for line in tokens for tok in line]
    return corpus[:max_tokens], vocab


TIME_MACHINE_SPLIT = (0.81, 0.9)  # 前 81% 训练，81%–90% 验证，最后 10% 测试（第 3 章）


def time_machine_splits():
    """《时间机器》的字符切成（训练文本, 验证文本, 测试文本, 词表）三段，比例见 TIME_MACHINE_SPLIT。"""
    corpus, vocab = load_corpus_time_machine()
    a, b = (int(share * len(corpus)) for share in TIME_MACHINE_SPLIT)
    return corpus[:a], corpus[a:b], corpus[b:], vocab


def read_jay_lyrics(max_chars=LYRICS_TRAIN_CHARS, whole_file=False):
    """歌词（换行变成空格）的前 max_chars 个字符，至多 20,000 个：后面是测试与验证文本。
    whole_file=True 时返回整个文件，只用于统计和读取那两段文本，不能用来训练。"""
    checks.boolean("whole_file", whole_file)
    text = data.read_text("jay_lyrics").replace("\n", " ").replace("\r", " ")
    if whole_file:
        return text
    checks.positive_int("max_chars", max_chars, maximum=LYRICS_TRAIN_CHARS,
                        hint="; characters 20,000-24,000 are the test and validation text")
    return text[:max_chars]


def load_corpus_jay_lyrics(max_chars=10000):
    """歌词前 max_chars 个字符的（索引序列, 词表）；教材取 10,000 或 20,000。"""
    chars = list(read_jay_lyrics(max_chars))
    vocab = Vocab(chars)
    return vocab[chars], vocab


def lyrics_valid(vocab):
    """验证文本（第 22,000–24,000 个字符）在 vocab 下的索引，用来做选择。
    词表没有的字变成 <unk>。"""
    return vocab[list(read_jay_lyrics(whole_file=True)[LYRICS_VALID])]


def lyrics_test(vocab):
    """测试文本（第 20,000–22,000 个字符）在 vocab 下的索引：训练和选择都不看它，
    只在最后报告一次成绩。词表没有的字变成 <unk>。"""
    return vocab[list(read_jay_lyrics(whole_file=True)[LYRICS_TEST])]
