"""Gallery: L1 gives sparse weights, L2 only small ones (textbook 7.1.1, 7.1.2), weight decay bounds
logistic regression on separable data (7.1), and dropout's weight scaling rule (7.12).
"""
from __future__ import annotations

import numpy as np

from .._core import experiment, host, new_figure, tensor


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
    from ... import manual_seed, nn, optim
    from ...nn.functional import mse_loss
    from ...regularize import L2, ProximalL1

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
    from ...regularize.analysis import separable_logistic_path

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
    from ... import manual_seed, nn, no_grad, optim
    from ...nn.functional import cross_entropy, softmax
    from ...regularize.dropout_inference import exact_dropout_predict

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
