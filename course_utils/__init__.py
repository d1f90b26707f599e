"""Shared helpers of the course: one module per concern.

config     run mode (quick/full), device, seeds, per-chapter hyperparameters
data       download + SHA-1 check + cache of the third-party data files
text       tokenization, Vocab, corpus loaders
iterators  random sampling / sequential partitioning minibatch iterators
ngram      n-gram counts and an add-k smoothed bigram language model
models     the RNN and GRU models (from scratch and with torch.nn)
train      gradient clipping, training loop, prediction, perplexity
plot       matplotlib set-up (Chinese font) and a line-plot helper
results    metrics stored by full runs, read back by later chapters
show       display the source of a function on a notebook page
"""
