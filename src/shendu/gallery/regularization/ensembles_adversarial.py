"""Gallery: bagging ensembles beat their members (textbook 7.11) and adversarial examples
(textbook 7.13).
"""
from __future__ import annotations

import numpy as np

from .._core import digits, experiment, host, new_figure, tensor
from ._common import _loss_acc


@experiment("ensembles", title="Bagging: an ensemble beats its members",
            claim="k models with errors of variance v and covariance c have an averaged error of mean square "
                  "v/k + (k-1)c/k: unless the errors are perfectly correlated the ensemble does better than its "
                  "members on average (bagging trains them on bootstrap resamples).",
            section="textbook 7.11 (eq. 7.50)",
            criterion="bagged ensemble test error < the members' mean test error, and the simulated ensemble MSE "
                      "within 2% of v/k + (k-1)c/k",
            judge=lambda n: n["ensemble_test_error"] < n["mean_member_test_error"]
            and abs(n["ensemble_mse_simulated"] / n["ensemble_mse_formula"] - 1) < 0.02)
def ensembles(quick=True, seed=0):
    from ... import manual_seed, nn
    from ...regularize.ensemble import Bagging, ensemble_mse, simulate_ensemble_mse

    (xtr, ytr), (xte, yte) = digits()
    n_train, k = (300, 5) if quick else (600, 10)
    manual_seed(seed)
    bag = Bagging(lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)), k)
    bag.fit(tensor(xtr[:n_train]), tensor(ytr[:n_train]), epochs=30, batch_size=32, lr=3e-3)
    xt, yt = tensor(xte), tensor(yte)
    _, acc_ens = _loss_acc(bag, xt, yt)
    member_err = [1 - _loss_acc(m, xt, yt)[1] for m in bag.members]
    v, c = 1.0, 0.3
    formula = [ensemble_mse(v, c, j) for j in range(1, 11)]
    sim = simulate_ensemble_mse(v, c, k)
    n = {"k": k, "n_train": n_train, "ensemble_test_error": 1 - acc_ens,
         "mean_member_test_error": float(np.mean(member_err)), "best_member_test_error": float(np.min(member_err)),
         "ensemble_mse_formula": ensemble_mse(v, c, k), "ensemble_mse_simulated": sim}
    fig, axes = new_figure(2)
    axes[0].bar(range(1, k + 1), member_err, color="C0", label="members")
    axes[0].axhline(1 - acc_ens, color="C3", label="bagged ensemble")
    axes[0].set_xlabel("member")
    axes[0].set_ylabel("test error")
    axes[0].legend(fontsize=8)
    axes[1].plot(range(1, 11), formula, "o-", label="v/k + (k-1)c/k, v=1, c=0.3")
    axes[1].plot([k], [sim], "r*", ms=12, label="simulated")
    axes[1].set_xlabel("ensemble size k")
    axes[1].set_ylabel("expected squared error")
    axes[1].legend(fontsize=8)
    return n, [fig]


@experiment("adversarial", title="Adversarial examples",
            claim="A small perturbation in the direction of the sign of the loss's input gradient (FGSM, eps "
                  "||w||_1 change of a linear unit) destroys the accuracy of a network that is nearly perfect on "
                  "clean inputs, while random sign noise of the same size barely matters; adversarial training "
                  "makes the network more robust.",
            section="textbook 7.13 (adversarial training)",
            criterion="FGSM accuracy < clean - 0.4; random-sign accuracy > clean - 0.05; adversarially trained "
                      "model's FGSM accuracy > the plain model's + 0.2",
            judge=lambda n: n["fgsm_acc"] < n["clean_acc"] - 0.4 and n["random_sign_acc"] > n["clean_acc"] - 0.05
            and n["fgsm_acc_adv_trained"] > n["fgsm_acc"] + 0.2)
def adversarial(quick=True, seed=0):
    from ... import manual_seed, nn, optim
    from ...nn.functional import cross_entropy
    from ...regularize.adversarial import adversarial_fit, fgsm

    (xtr, ytr), (xte, yte) = digits()
    eps = 0.15
    epochs = 15 if quick else 40
    x, y, xt, yt = tensor(xtr), tensor(ytr), tensor(xte), tensor(yte)

    def make():
        return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))

    manual_seed(seed)
    model = make()
    opt = optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(xtr))
        for s in range(0, len(order), 64):
            b = tensor(order[s:s + 64])
            opt.zero_grad()
            cross_entropy(model(x[b]), y[b]).backward()
            opt.step()
    model.eval()
    clean = _loss_acc(model, xt, yt)[1]
    x_adv = fgsm(model, cross_entropy, xt, yt, eps, clip=(0.0, 1.0))
    adv = _loss_acc(model, x_adv, yt)[1]
    signs = np.sign(rng.standard_normal(xte.shape)).astype(np.float32)
    x_rand = tensor(np.clip(xte + eps * signs, 0.0, 1.0))
    rand = _loss_acc(model, x_rand, yt)[1]
    manual_seed(seed)
    robust = make()
    adversarial_fit(robust, x, y, lr=3e-3, epochs=epochs, batch_size=64, eps=eps)
    robust.eval()
    adv_r = _loss_acc(robust, fgsm(robust, cross_entropy, xt, yt, eps, clip=(0.0, 1.0)), yt)[1]
    n = {"eps": eps, "clean_acc": clean, "fgsm_acc": adv, "random_sign_acc": rand,
         "clean_acc_adv_trained": _loss_acc(robust, xt, yt)[1], "fgsm_acc_adv_trained": adv_r}
    fig, axes = new_figure(3, width=2.6, height=2.9)
    i = 0
    for ax, img, t in zip(axes, (xte[i], host(x_rand)[i], host(x_adv)[i]), ("clean", "random sign", "FGSM")):
        ax.imshow(img.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(t)
        ax.axis("off")
    fig.suptitle(f"eps = {eps}: accuracy clean {clean:.2f}, random {rand:.2f}, FGSM {adv:.2f}", fontsize=9)
    return n, [fig]
