"""shendu.text: natural-language processing (textbook 12.4): tokenizers, vocabulary, n-gram language models,
neural language models (NPLM, RNN-LM), high-dimensional output layers and perplexity.

    from shendu import text
    tok = text.WordTokenizer(lower=True); vocab = text.Vocab.build([tok(s) for s in corpus], min_freq=2)
    lm = text.KneserNeyLM(3).fit([tok(s) for s in train]); lm.perplexity([tok(s) for s in test])
"""
from .models import (NPLM, RNNLM, detach_state, evaluate_perplexity, interpolate, nearest_neighbors, ngram_windows,
                     sample, token_logprobs, train_tbptt, tune_interpolation)
from .ngram import (ClassBigramLM, JelinekMercerLM, KatzBackoffLM, KneserNeyLM, LaplaceLM, LidstoneLM, MLELM,
                    NgramLM, NgramRatioModel, cluster_words, perplexity)
from .outputs import (DirectNgramFeatures, HierarchicalSoftmax, NCELoss, Proposal, SampledReconstructionLoss,
                      SampledSoftmaxLoss, ShortlistSoftmax, Tree,
                      TwoLevelSoftmax, balanced_tree, bigram_proposal, huffman_tree, importance_weights,
                      leaf_probabilities, nce_loss, ranking_loss, sampled_softmax_loss, shortlist_mixture,
                      unigram_proposal)
from .augment import interpolate_embeddings, synonym_replace  # hcovB: T3.18
from .lsa import (FamilyTreeNet, LSAEmbedding, cooccurrence, family_tree_arrays, family_tree_correct,  # hcovB
                  family_tree_loss, family_tree_triples, ppmi)
from .tokenizers import ByteTokenizer, CharTokenizer, WordTokenizer, get_tokenizer
from .vocab import Vocab, batchify, pad_batch

__all__ = [
    "WordTokenizer",
    "CharTokenizer",
    "ByteTokenizer",
    "get_tokenizer",
    "Vocab",
    "pad_batch",
    "batchify",
    "NgramRatioModel",
    "NgramLM",
    "MLELM",
    "LidstoneLM",
    "LaplaceLM",
    "JelinekMercerLM",
    "KatzBackoffLM",
    "KneserNeyLM",
    "ClassBigramLM",
    "cluster_words",
    "perplexity",
    "NPLM",
    "RNNLM",
    "ngram_windows",
    "detach_state",
    "train_tbptt",
    "evaluate_perplexity",
    "token_logprobs",
    "sample",
    "nearest_neighbors",
    "interpolate",
    "tune_interpolation",
    "Tree",
    "balanced_tree",
    "huffman_tree",
    "leaf_probabilities",
    "HierarchicalSoftmax",
    "TwoLevelSoftmax",
    "shortlist_mixture",
    "ShortlistSoftmax",
    "Proposal",
    "unigram_proposal",
    "bigram_proposal",
    "importance_weights",
    "sampled_softmax_loss",
    "SampledSoftmaxLoss",
    "nce_loss",
    "NCELoss",
    "ranking_loss",
    "SampledReconstructionLoss",
    "DirectNgramFeatures",
    "LSAEmbedding",
    "cooccurrence",
    "ppmi",
    "FamilyTreeNet",
    "family_tree_triples",
    "family_tree_arrays",
    "family_tree_loss",
    "family_tree_correct",
    "synonym_replace",
    "interpolate_embeddings",
]
