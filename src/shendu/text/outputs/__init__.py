"""High-dimensional outputs (textbook 12.4.3): short list + n-gram tail, hierarchical softmax (balanced, Huffman,
two-level class tree), importance-sampled softmax, noise-contrastive estimation and the ranking loss (12.19).

Device-generic: the layers compose shendu's differentiable ops; host index arrays (tree paths, samples) are
moved to the parameters' device by indexing. Samples are drawn on the host from the proposal (a fixed table).

One module per output kind: hierarchical (word trees), shortlist (short list, direct n-gram features),
sampled (importance sampling, NCE), ranking (ranking and sampled reconstruction losses); _common holds helpers.
"""
from .hierarchical import (  # noqa: F401
    Tree, balanced_tree, huffman_tree, leaf_probabilities, HierarchicalSoftmax, TwoLevelSoftmax)
from .shortlist import shortlist_mixture, ShortlistSoftmax, DirectNgramFeatures  # noqa: F401
from .sampled import (  # noqa: F401
    Proposal, unigram_proposal, bigram_proposal, importance_weights, sampled_softmax_loss, SampledSoftmaxLoss,
    nce_loss, NCELoss)
from .ranking import ranking_loss, SampledReconstructionLoss  # noqa: F401

__all__ = ["Tree", "balanced_tree", "huffman_tree", "leaf_probabilities", "HierarchicalSoftmax", "TwoLevelSoftmax",
           "shortlist_mixture", "ShortlistSoftmax", "Proposal", "unigram_proposal", "bigram_proposal",
           "importance_weights", "sampled_softmax_loss", "SampledSoftmaxLoss", "nce_loss", "NCELoss",
           "ranking_loss", "SampledReconstructionLoss", "DirectNgramFeatures"]
