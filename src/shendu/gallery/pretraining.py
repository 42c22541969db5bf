"""Gallery: greedy layer-wise unsupervised pretraining (texts 001/004, textbook 15.1 via 8.7.4): a DBN's RBM
weights as the initialisation of an MLP help in the few-epoch regime (examples/representation/rbm_dbn.py)."""
from __future__ import annotations

import numpy as np

from ._core import digits, experiment, new_figure


@experiment("dbn_pretraining", title="RBM/DBN pretraining as initialisation",
            claim="Training an RBM on the inputs by contrastive divergence (no labels) and using its weights to "
                  "initialise a sigmoid MLP gives features that already describe the data, so after a short "
                  "supervised fine-tuning the network is more accurate than the same network from a random start.",
            section="text 004 (RBM/DBN history), text 001; textbook 15.1 (greedy layer-wise pretraining), 20.3",
            criterion="after 1 epoch of SGD fine-tuning (mean over seeds): DBN-initialised test accuracy > "
                      "random-initialised + 0.03",
            judge=lambda n: n["test_acc_dbn_init"] > n["test_acc_random_init"] + 0.03)
def dbn_pretraining(quick=True, seed=0):
    from .. import manual_seed, nn
    from ..models import DBN
    from ..nn.functional import cross_entropy
    from ..train.strategies._loop import accuracy, minibatch_fit

    (xtr, ytr), (xte, yte) = digits()
    pre_epochs = 3 if quick else 10
    seeds = range(seed, seed + (2 if quick else 5))

    def fine_tune(model, s):
        minibatch_fit(model, lambda a, b: cross_entropy(model(a), b), (xtr, ytr), 1, 32, lr=0.5, seed=s)
        return accuracy(model, xte, yte)

    a_dbn, a_rand, errors = [], [], []
    for s in seeds:
        manual_seed(s)
        dbn = DBN([64, 100])
        errors.append(dbn.pretrain(xtr, epochs=pre_epochs, lr=0.5, momentum=0.5, seed=s)[0])
        a_dbn.append(fine_tune(dbn.to_mlp(10), s))
        manual_seed(s + 100)
        a_rand.append(fine_tune(nn.Sequential(nn.Linear(64, 100), nn.Sigmoid(), nn.Linear(100, 10)), s))
    n = {"test_acc_dbn_init": float(np.mean(a_dbn)), "test_acc_random_init": float(np.mean(a_rand)),
         "rbm_reconstruction_error": float(np.mean(errors)), "pretrain_epochs": pre_epochs, "seeds": len(a_dbn)}
    w = dbn.rbms[0].filters((8, 8))
    fig, axes = new_figure(2)
    axes[0].plot(list(seeds), a_dbn, "o-", label="DBN init")
    axes[0].plot(list(seeds), a_rand, "s-", label="random init")
    axes[0].set_xlabel("seed")
    axes[0].set_ylabel("test accuracy after 1 epoch")
    axes[0].legend(fontsize=8)
    tiles = np.zeros((6 * 9, 6 * 9))
    for i in range(36):
        r, c = divmod(i, 6)
        tiles[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = w[i] / (np.abs(w[i]).max() + 1e-12)
    axes[1].imshow(tiles, cmap="RdBu_r", vmin=-1, vmax=1)
    axes[1].set_title("first RBM's weight filters (36 of 100)")
    axes[1].axis("off")
    return n, [fig]
