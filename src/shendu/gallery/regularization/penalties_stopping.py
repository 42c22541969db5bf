"""Gallery: L2 vs dropout vs early stopping on a small training set (textbook 7.1, 7.8, 7.12)
and early stopping acting as L2 (textbook 7.8).
"""
from __future__ import annotations

import numpy as np

from .._core import experiment, host, new_figure, tensor
from ._common import _regularizer_trial


@experiment("regularizers", title="L2 vs dropout vs early stopping: the train-test gap",
            claim="A large network trained long on few examples overfits: its test loss ends far above its training "
                  "loss. An L2 penalty, dropout and early stopping each reduce that generalization gap.",
            section="textbook 7.1.1 (L2), 7.8 (early stopping), 7.12 (dropout)",
            criterion="mean over 3 training subsets of the test-minus-train cross-entropy gap: each regularizer's "
                      "< 0.9 x the unregularized network's",
            judge=lambda n: all(n[f"gap_{k}"] < 0.9 * n["gap_none"] for k in ("l2", "dropout", "early_stopping")))
def regularizers(quick=True, seed=0):
    epochs, reps = (40, 3) if quick else (100, 5)
    trials = [_regularizer_trial(seed + i, epochs, 1e-2) for i in range(reps)]
    n = {"n_train": 100, "repetitions": reps, "epochs": epochs}
    for name in ("none", "l2", "dropout", "early_stopping"):
        tr = np.mean([t[0][name][0] for t in trials])
        te = np.mean([t[0][name][1] for t in trials])
        n[f"train_loss_{name}"], n[f"test_loss_{name}"], n[f"gap_{name}"] = float(tr), float(te), float(te - tr)
    n["early_stopping_epoch_first"] = trials[0][2]
    curves = trials[0][1]
    fig, ax = new_figure(width=6, height=4)
    for name, c in curves.items():
        line, = ax.plot(c[:, 1], label=f"{name}: test")
        ax.plot(c[:, 0], "--", color=line.get_color(), label=f"{name}: train")
    ax.axvline(trials[0][2] - 1, color="gray", lw=0.8, label="early stop (validation)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title("64-128-128-10 ReLU net, 100 training digits (first subset)")
    ax.legend(fontsize=7, ncol=2)
    return n, [fig]


@experiment("early_stopping_l2", title="Early stopping acts as L2 regularization",
            claim="On a quadratic, tau steps of gradient descent from 0 with rate eps keep the fraction "
                  "1 - (1 - eps lambda)^tau of w* along each Hessian eigendirection; L2 with alpha = 1 / (tau eps) "
                  "keeps lambda / (lambda + alpha). Both keep little of the low-curvature directions and nearly all "
                  "of the high-curvature ones, so the early-stopped weights are close to the weight-decayed ones.",
            section="textbook 7.8 (eqs. 7.40-7.45)",
            criterion="factors agree within 0.01 where lambda <= alpha/10 and within 0.25 everywhere; "
                      "||w_early - w_L2|| / ||w_L2|| < 0.25 while ||w_early - w*|| / ||w*|| > 0.3 (a real shrinkage)",
            judge=lambda n: n["max_factor_diff_small_lambda"] < 0.01 and n["max_factor_diff"] < 0.25
            and n["rel_diff_early_vs_l2"] < 0.25 and n["rel_shrinkage"] > 0.3)
def early_stopping_l2(quick=True, seed=0):
    from ...regularize.analysis import (
        early_stopping_factors,
        equivalent_weight_decay,
        gradient_descent_path,
        l2_factors,
        l2_optimum,
    )

    rng = np.random.default_rng(seed)
    d = 16 if quick else 40
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    lam = np.geomspace(0.001, 1.0, d)
    H = tensor(Q @ np.diag(lam) @ Q.T)
    w_star = tensor(rng.standard_normal(d))
    lr, tau = 0.1, 100
    alpha = equivalent_weight_decay(lr, tau)
    w_es = gradient_descent_path(H, w_star, lr, tau)[-1]
    w_l2 = l2_optimum(H, w_star, alpha)
    es = host(early_stopping_factors(tensor(lam), lr, tau))
    l2 = host(l2_factors(tensor(lam), alpha))
    small = lam <= alpha / 10
    n = {"alpha_equivalent": alpha, "lr": lr, "steps": tau,
         "rel_diff_early_vs_l2": float(np.linalg.norm(host(w_es) - host(w_l2)) / np.linalg.norm(host(w_l2))),
         "rel_shrinkage": float(np.linalg.norm(host(w_es) - host(w_star)) / np.linalg.norm(host(w_star))),
         "max_factor_diff": float(np.abs(es - l2).max()),
         "max_factor_diff_small_lambda": float(np.abs(es - l2)[small].max())}
    fig, ax = new_figure()
    ax.semilogx(lam, es, "o-", label=f"early stopping, {tau} steps of lr {lr}")
    ax.semilogx(lam, l2, "s--", label=f"L2, alpha = 1/(tau eps) = {alpha:g}")
    ax.axvline(alpha, color="gray", lw=0.8)
    ax.set_xlabel("Hessian eigenvalue lambda")
    ax.set_ylabel("fraction of w* kept")
    ax.legend(fontsize=8)
    return n, [fig]
