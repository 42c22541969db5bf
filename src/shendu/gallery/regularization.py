"""Gallery: regularization: L2 vs dropout vs early stopping on a small training set (textbook 7.1, 7.8, 7.12),
early stopping acts as L2 (textbook 7.8), bagging ensembles (textbook 7.11) and adversarial examples (7.13)."""
from __future__ import annotations

import math

import numpy as np

from ._core import digits, experiment, host, new_figure, tensor


def _loss_acc(model, x, y):
    from .. import no_grad
    from ..nn.functional import cross_entropy

    was = model.training
    model.eval()
    with no_grad():
        out = model(x)
        loss = float(cross_entropy(out, y).item())
        acc = float((out.argmax(-1) == y).float().mean().item())
    model.train(was)
    return loss, acc


def _mlp(dropout=0.0, hidden=256, input_dropout=0.0):
    from .. import nn

    layers = [nn.Dropout(input_dropout)] if input_dropout else []
    layers += [nn.Linear(64, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(hidden, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, 10))
    return nn.Sequential(*layers)


_REG_RUNS = {"none": {}, "l2": {"weight_decay": 1e-2}, "dropout": {"dropout": 0.6, "input_dropout": 0.2}}


def _regularizer_trial(seed, epochs, lr, n_train=100):
    """One repetition: a fresh subset of n_train training digits; the unregularized, L2 and dropout nets trained
    with Adam; early stopping = the unregularized run at its best validation epoch. Returns
    {variant: (train loss, test loss)} and the per-epoch (train, test) curves and the early-stopping epoch."""
    from .. import manual_seed, optim
    from ..nn.functional import cross_entropy

    (xtr, ytr), (xte, yte) = digits()
    idx = np.random.default_rng(seed).permutation(len(xtr))
    tr, va = idx[:n_train], idx[n_train:n_train + 300]
    x, y = tensor(xtr[tr]), tensor(ytr[tr])
    xv, yv = tensor(xtr[va]), tensor(ytr[va])
    xt, yt = tensor(xte), tensor(yte)
    out, curves, stop = {}, {}, None
    for name, kw in _REG_RUNS.items():
        manual_seed(seed)
        model = _mlp(kw.get("dropout", 0.0), hidden=128, input_dropout=kw.get("input_dropout", 0.0))
        opt = optim.Adam(model.parameters(), lr=lr, weight_decay=kw.get("weight_decay", 0.0))
        hist, best = [], (math.inf, None, None)
        r = np.random.default_rng(seed)
        for ep in range(epochs):
            order = r.permutation(n_train)
            for s in range(0, n_train, 32):
                b = tensor(order[s:s + 32])
                opt.zero_grad()
                cross_entropy(model(x[b]), y[b]).backward()
                opt.step()
            tl, _ = _loss_acc(model, x, y)
            tel, _ = _loss_acc(model, xt, yt)
            hist.append((tl, tel))
            if name == "none":
                vl, _ = _loss_acc(model, xv, yv)
                if vl < best[0]:
                    best = (vl, ep, (tl, tel))
        curves[name] = np.array(hist)
        out[name] = hist[-1]
        if name == "none":
            out["early_stopping"], stop = best[2], best[1] + 1
    return out, curves, stop


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
    from ..regularize.analysis import (
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
    from .. import manual_seed, nn
    from ..regularize.ensemble import Bagging, ensemble_mse, simulate_ensemble_mse

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
    from .. import manual_seed, nn, optim
    from ..nn.functional import cross_entropy
    from ..regularize.adversarial import adversarial_fit, fgsm

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


@experiment("l1_sparsity", title="L1 gives sparse weights, L2 only small ones",
            claim="The L1 penalty's proximal step soft-thresholds the weights, so the weights of irrelevant "
                  "features become exactly zero; the L2 penalty shrinks every weight in proportion and leaves none "
                  "at zero.",
            section="textbook 7.1.2 (eqs. 7.20-7.23)",
            criterion="L1 (proximal): > 80% of the irrelevant weights exactly 0 and every relevant weight nonzero; "
                      "L2: no weight exactly 0",
            judge=lambda n: n["zero_fraction_irrelevant_l1"] > 0.8 and n["relevant_kept_l1"] == n["relevant"]
            and n["zero_weights_l2"] == 0)
def l1_sparsity(quick=True, seed=0):
    from .. import manual_seed, nn, optim
    from ..nn.functional import mse_loss
    from ..regularize import L2, ProximalL1

    rng = np.random.default_rng(seed)
    m, d, k = (100, 40, 5) if quick else (400, 200, 10)
    w_true = np.zeros(d, np.float32)
    w_true[:k] = rng.choice([-2.0, 2.0], k) * rng.uniform(0.5, 1.0, k)
    X = rng.standard_normal((m, d)).astype(np.float32)
    y = (X @ w_true + 0.1 * rng.standard_normal(m)).astype(np.float32)
    x, yt = tensor(X), tensor(y[:, None])
    weights = {}
    for name in ("l1", "l2"):
        manual_seed(seed)
        model = nn.Linear(d, 1)
        opt = optim.SGD(model.parameters(), lr=0.05)
        if name == "l1":
            ProximalL1(0.1).attach(opt, model)
            penalty = None
        else:
            penalty = L2(0.2)
        for _ in range(150 if quick else 500):
            loss = mse_loss(model(x), yt)
            if penalty is not None:
                loss = loss + penalty(model)
            opt.zero_grad()
            loss.backward()
            opt.step()
        weights[name] = host(model.weight).ravel()
    n = {"features": d, "relevant": k,
         "zero_fraction_irrelevant_l1": float((weights["l1"][k:] == 0).mean()),
         "relevant_kept_l1": int((weights["l1"][:k] != 0).sum()),
         "zero_weights_l2": int((weights["l2"] == 0).sum()),
         "max_abs_irrelevant_l2": float(np.abs(weights["l2"][k:]).max())}
    fig, ax = new_figure(width=6)
    idx = np.arange(d)
    ax.bar(idx - 0.2, weights["l2"], 0.4, label="L2 (alpha 0.2)")
    ax.bar(idx + 0.2, weights["l1"], 0.4, label="L1, proximal (alpha 0.1)")
    ax.plot(idx, w_true, "k_", ms=8, label="true weights")
    ax.set_xlabel(f"feature (the first {k} are relevant)")
    ax.set_ylabel("learned weight")
    ax.legend(fontsize=8)
    return n, [fig]


@experiment("separable_logistic", title="Weight decay bounds logistic regression on separable data",
            claim="On linearly separable data the likelihood keeps rising as w is scaled up, so logistic regression "
                  "without a penalty makes ||w|| grow without bound; weight decay stops it where the likelihood's "
                  "slope equals the decay.",
            section="textbook 7.2.5 (under-constrained problems), 7.1",
            criterion="without decay ||w|| still grows over the last half of training (> 1.05x); with decay 0.01 "
                      "it has settled (< 1.01x) and stays smaller",
            judge=lambda n: n["growth_last_half_no_decay"] > 1.05 and n["growth_last_half_decay"] < 1.01
            and n["final_norm_decay"] < n["final_norm_no_decay"])
def separable_logistic(quick=True, seed=0):
    from ..regularize.analysis import separable_logistic_path

    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(-2, 0.5, (20, 2)), rng.normal(2, 0.5, (20, 2))]).astype(np.float32)
    y = np.repeat([0.0, 1.0], 20).astype(np.float32)
    steps = 1000 if quick else 10000
    norms = {}
    for name, wd in (("no_decay", 0.0), ("decay", 0.01)):
        norms[name], _, _ = separable_logistic_path(tensor(x), tensor(y), weight_decay=wd, lr=0.5, steps=steps,
                                                    record_every=50)
    n = {"steps": steps}
    for name, v in norms.items():
        n[f"final_norm_{name}"] = float(v[-1])
        n[f"growth_last_half_{name}"] = float(v[-1] / v[len(v) // 2 - 1])
    fig, ax = new_figure()
    for name, v in norms.items():
        ax.plot(np.arange(1, len(v) + 1) * 50, v, label=name.replace("_", " "))
    ax.set_xlabel("step")
    ax.set_ylabel("||w||")
    ax.set_title("logistic regression, separable data")
    ax.legend()
    return n, [fig]


@experiment("dropout_weight_scaling", title="Dropout's weight scaling rule approximates the ensemble",
            claim="A dropout network is an ensemble of 2^d subnetworks; the weight scaling rule (use all units, "
                  "weights scaled by the keep probability) gives exactly the renormalized geometric mean of the "
                  "subnetworks' predictions for softmax regression, and a close approximation of the ensemble for "
                  "a network with nonlinear hidden units.",
            section="textbook 7.12 (eqs. 7.53-7.66)",
            criterion="softmax regression: max |weight scaling - exact geometric mean| < 1e-5; tanh net: the two "
                      "differ (> 1e-4) yet agree on >= 95% of predicted classes",
            judge=lambda n: n["max_diff_softmax_regression"] < 1e-5 and n["max_diff_hidden_net"] > 1e-4
            and n["class_agreement_hidden_net"] >= 0.95)
def dropout_weight_scaling(quick=True, seed=0):
    from .. import manual_seed, nn, no_grad, optim
    from ..nn.functional import cross_entropy, softmax
    from ..regularize.dropout_inference import exact_dropout_predict

    rng = np.random.default_rng(seed)
    d, k, m = 10, 3, 300
    centers = rng.standard_normal((k, d)) * 1.5
    y = rng.integers(0, k, m)
    X = (centers[y] + rng.standard_normal((m, d))).astype(np.float32)
    x, yt = tensor(X), tensor(y)
    models = {"softmax_regression": lambda: nn.Sequential(nn.Dropout(0.5), nn.Linear(d, k)),
              "hidden_net": lambda: nn.Sequential(nn.Linear(d, 8 if quick else 12), nn.Tanh(), nn.Dropout(0.5),
                                                  nn.Linear(8 if quick else 12, k))}
    n, probs = {}, {}
    for name, make in models.items():
        manual_seed(seed)
        model = make()
        opt = optim.Adam(model.parameters(), lr=1e-2)
        model.train()
        for _ in range(200):
            opt.zero_grad()
            cross_entropy(model(x), yt).backward()
            opt.step()
        model.eval()
        with no_grad():
            ws = host(softmax(model(x), dim=-1))
            geo = host(exact_dropout_predict(model, x, rule="geometric"))
            ari = host(exact_dropout_predict(model, x, rule="arithmetic"))
        probs[name] = (ws, geo, ari)
        n[f"max_diff_{name}"] = float(np.abs(ws - (geo if name == "softmax_regression" else ari)).max())
        n[f"class_agreement_{name}"] = float((ws.argmax(1) == ari.argmax(1)).mean())
    fig, axes = new_figure(2)
    for ax, (name, (ws, geo, ari)) in zip(axes, probs.items()):
        ref = geo if name == "softmax_regression" else ari
        ax.plot(ref.ravel(), ws.ravel(), ".", ms=3)
        ax.plot([0, 1], [0, 1], "k-", lw=0.8)
        ax.set_xlabel("exact ensemble " + ("(geometric mean)" if name == "softmax_regression" else "(arithmetic mean)"))
        ax.set_ylabel("weight scaling rule")
        ax.set_title(name.replace("_", " "))
    return n, [fig]
