"""Dynamic structure (textbook 12.1.5): mixture of experts (W12.10, gradcheck, hard routing counts), cascades with
early rejection, conditional block dropout trained by REINFORCE."""
import itertools

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.autograd.gradcheck import gradcheck

from ._examples import load_example


def _const_linear(n_in, bias, dtype=np.float32):
    lin = sd.nn.Linear(n_in, len(bias))
    lin.weight.data = sd.zeros(len(bias), n_in, dtype=dtype)
    lin.bias.data = sd.tensor(np.asarray(bias, dtype=dtype))
    return lin


def test_w12_10_soft_moe_is_the_gate_weighted_sum_of_expert_outputs():
    # gate logits [1, 2, 0] -> softmax [0.2447, 0.6652, 0.0900]; experts output [1, 0], [0, 1], [2, 2]
    experts = [_const_linear(3, b) for b in ([1.0, 0.0], [0.0, 1.0], [2.0, 2.0])]
    moe = sd.nn.MixtureOfExperts(experts, gater=_const_linear(3, [1.0, 2.0, 0.0]))
    y = moe(sd.randn(2, 3)).numpy()
    w = np.exp([1.0, 2.0, 0.0]) / np.exp([1.0, 2.0, 0.0]).sum()
    np.testing.assert_allclose(w, [0.244728, 0.665241, 0.090031], atol=1e-6)
    want = w[0] * np.array([1, 0]) + w[1] * np.array([0, 1]) + w[2] * np.array([2, 2])
    np.testing.assert_allclose(y, np.tile(want, (2, 1)), rtol=1e-6)
    np.testing.assert_allclose(want, [0.424790, 0.845303], atol=1e-6)
    assert moe.last_counts == [2, 2, 2]  # soft: every expert runs on every example (no compute saving)


def _experts(n, seed, dtype=np.float64):
    sd.manual_seed(seed)
    return [sd.nn.Sequential(sd.nn.Linear(4, 5, dtype=dtype), sd.nn.Tanh(), sd.nn.Linear(5, 3, dtype=dtype))
            for _ in range(n)]


def _brute(moe, x):
    """Reference output: every expert on every row, weights by the gater's rule."""
    logits = moe.gate(x).numpy()
    ys = np.stack([e(x).numpy() for e in moe.experts], 1)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    if moe.mode == "soft":
        return (p[:, :, None] * ys).sum(1)
    order = np.argsort(-logits, axis=1, kind="stable")[:, :moe.k]
    out = np.zeros((x.shape[0], ys.shape[2]))
    for i in range(x.shape[0]):
        ch = order[i]
        w = np.exp(logits[i, ch] - logits[i, ch].max())
        w = w / w.sum() if moe.renormalize else p[i, ch]
        out[i] = (w[:, None] * ys[i, ch]).sum(0)
    return out


@pytest.mark.parametrize("gater,k", [("soft", 1), ("top1", 1), ("topk", 2), ("topk", 3)])
def test_moe_matches_brute_force_and_gradchecks_in_float64(gater, k):
    moe = sd.nn.MixtureOfExperts(_experts(4, 0), gater=gater, k=k, in_features=4)
    moe.gate.weight.data = moe.gate.weight.data.double() * 3
    moe.gate.bias.data = moe.gate.bias.data.double()
    x = sd.tensor(np.random.default_rng(1).normal(size=(7, 4)), requires_grad=True)
    np.testing.assert_allclose(moe(x).numpy(), _brute(moe, x), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a: moe(a), [x], eps=1e-6, atol=1e-6)
    W = moe.gate.weight
    assert gradcheck(lambda w: moe(x.detach()), [W], eps=1e-6, atol=1e-6)  # the gater is trained by backprop
    if gater != "soft":
        assert sum(moe.last_counts) == 7 * k  # each row ran exactly k experts


def test_hard_moe_runs_exactly_one_expert_per_example():
    calls = []

    class Counting(sd.nn.Module):
        def __init__(self, i):
            super().__init__()
            self.i = i
            self.lin = sd.nn.Linear(4, 2)

        def forward(self, x):
            calls.append((self.i, x.shape[0]))
            return self.lin(x)

    moe = sd.nn.MixtureOfExperts([Counting(i) for i in range(5)], gater="top1", in_features=4)
    sd.manual_seed(3)
    moe(sd.randn(40, 4))
    assert sum(n for _, n in calls) == 40  # 40 expert-rows in all: one expert per example
    assert len({i for i, _ in calls}) == len(calls)  # each chosen expert ran once, on its batch of rows
    assert [n for n in moe.last_counts if n] == [n for _, n in calls]


def test_load_balancing_loss_formula():
    moe = sd.nn.MixtureOfExperts(_experts(3, 1, np.float32), gater="top1", in_features=4)
    x = sd.randn(30, 4)
    moe(x)
    logits = moe.gate(x).numpy()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    f = np.bincount(logits.argmax(1), minlength=3) / 30
    np.testing.assert_allclose(float(moe.aux_loss.item()), 3 * (f * p.mean(0)).sum(), rtol=1e-5)
    # a gater that sends every row to expert 0 with probability ~0.987 is penalised: E * 1 * 0.987 ~ 2.96 (>= 1,
    # the value of a balanced load)
    skew = sd.nn.MixtureOfExperts(_experts(3, 1, np.float32), gater=_const_linear(4, [5.0, 0.0, 0.0]), mode="top1")
    skew(x)
    p0 = np.exp(5.0) / (np.exp(5.0) + 2)
    np.testing.assert_allclose(float(skew.aux_loss.item()), 3 * p0, rtol=1e-5)


def test_moe_learns_a_piecewise_function_better_than_one_expert():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(256, 1)).astype(np.float32)
    y = np.abs(x) + 0.1 * (x > 0)
    res = {}
    for name in ("single", "soft", "top1"):
        sd.manual_seed(0)
        if name == "single":
            model = sd.nn.Linear(1, 1)
        else:
            model = sd.nn.MixtureOfExperts([sd.nn.Linear(1, 1) for _ in range(2)], gater=name)
        opt = sd.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(300):
            opt.zero_grad()
            loss = F.mse_loss(model(sd.tensor(x)), sd.tensor(y))
            loss.backward()
            opt.step()
        res[name] = float(loss.item())
    assert res["single"] > 0.07
    assert res["soft"] < 0.01 and res["top1"] < 0.01, res


def test_moe_bad_arguments():
    with pytest.raises(ValueError, match="gater mode"):
        sd.nn.MixtureOfExperts([sd.nn.Linear(2, 2)], gater="hard")
    with pytest.raises(ValueError, match="k must lie"):
        sd.nn.MixtureOfExperts([sd.nn.Linear(2, 2)] * 2, gater="topk", k=3)
    with pytest.raises(ValueError, match="in_features"):
        sd.nn.MixtureOfExperts([sd.nn.Tanh()], gater="soft")


# --- cascade --------------------------------------------------------------------------------------------------
def _stage(w, b):
    lin = sd.nn.Linear(len(w), 1)
    lin.weight.data = sd.tensor([w])
    lin.bias.data = sd.tensor([b])
    return lin


def test_cascade_is_the_and_of_stage_decisions_and_saves_compute():
    rng = np.random.default_rng(0)
    x = sd.tensor(rng.normal(size=(500, 3)).astype(np.float32))
    stages = [(_stage([2.0, 0.0, 0.0], -1.0), 0.5), (_stage([0.0, 3.0, 0.0], 0.0), 0.4),
              (_stage([1.0, 1.0, 1.0], 0.0), 0.6)]
    cas = sd.nn.Cascade(stages, costs=[1.0, 5.0, 20.0])
    acc = cas(x).numpy()
    scores = [s.numpy() for s in cas.stage_scores(x)]
    want = np.logical_and.reduce([s >= t for s, (_, t) in zip(scores, stages)])
    np.testing.assert_array_equal(acc, want)
    st = cas.last_stats
    n1 = int((scores[0] >= 0.5).sum())
    n2 = int(((scores[0] >= 0.5) & (scores[1] >= 0.4)).sum())
    assert st["evaluated"] == [500, n1, n2] and n2 < n1 < 500
    np.testing.assert_allclose(st["compute_saved"], 1 - (500 * 1 + n1 * 5 + n2 * 20) / (500 * 26.0))
    assert st["compute_saved"] > 0.5


def test_high_recall_first_stage_never_rejects_positives():
    """Rare positives (x0 > 1 and x1 > 1); a cheap first stage looking at x0 with a recall-1 threshold, a
    precise second stage; the cascade keeps every positive and is exact on this synthetic task."""
    rng = np.random.default_rng(1)
    xn = rng.normal(size=(2000, 2)).astype(np.float32) + 0.3
    yn = ((xn[:, 0] > 1) & (xn[:, 1] > 1)).astype(np.int64)
    assert 0.01 < yn.mean() < 0.2
    x = sd.tensor(xn)
    s1 = _stage([4.0, 0.0], -2.0)  # high recall, low precision
    thr = sd.nn.recall_threshold(s1, x, yn, recall=1.0)
    first = s1(x).sigmoid().numpy().ravel() >= thr
    assert first[yn == 1].all() and first.mean() < 0.5
    cas = sd.nn.Cascade([(s1, thr), (sd.nn.Sequential(_stage([0.0, 50.0], -50.0)), 0.5),
                         (_stage([50.0, 0.0], -50.0), 0.5)])
    out = cas(x).numpy()
    assert out[yn == 1].all()
    np.testing.assert_array_equal(out, yn.astype(bool))
    assert cas.last_stats["compute_saved"] > 0.3


# --- conditional computation ------------------------------------------------------------------------------------
def test_reinforce_estimator_is_unbiased_for_the_exact_policy_gradient():
    """J(theta) = sum_m P(m | x) R(m) over the 2^3 block masks; the REINFORCE surrogate's gradient averaged over
    many sampled masks matches dJ/dtheta (minus sign: the surrogate is minimised)."""
    sd.manual_seed(0)
    cbd = sd.nn.ConditionalBlockDropout(2, 6, 3, sparsity_weight=0.0, dtype=np.float64)
    x1 = np.array([[0.5, -1.0]])
    reward = {m: float(np.dot(m, [1.0, -2.0, 0.5]) + 3 * m[0] * m[2]) for m in itertools.product([0, 1], repeat=3)}
    # exact gradient
    p = cbd.block_probs(sd.tensor(x1))[0]
    J = None
    for m, r in reward.items():
        pm = None
        for j in range(3):
            term = p[j] if m[j] else 1.0 - p[j]
            pm = term if pm is None else pm * term
        J = pm * r if J is None else J + pm * r
    exact = sd.autograd.grad(J, [cbd.policy.weight, cbd.policy.bias])
    # Monte Carlo with the module's sampler
    n = 40000
    cbd.train()
    cbd(sd.tensor(np.repeat(x1, n, 0)))
    masks = cbd.last_mask.numpy().astype(int)
    r = np.array([reward[tuple(m)] for m in masks])
    cbd.baseline = float(r.mean())  # a constant baseline keeps the estimator unbiased and lowers its variance
    cbd.baseline_momentum = 1.0
    est = sd.autograd.grad(cbd.reinforce_loss(sd.tensor(r)), [cbd.policy.weight, cbd.policy.bias])
    for e, g in zip(exact, est):
        np.testing.assert_allclose(-g.numpy(), e.numpy(), atol=0.03 * np.abs(e.numpy()).max() + 0.01)


def test_conditional_block_eval_computes_only_kept_blocks_and_equals_masked_dense():
    sd.manual_seed(2)
    cbd = sd.nn.ConditionalBlockDropout(5, 12, 4)
    cbd.policy.bias.data = sd.tensor([3.0, -3.0, 0.0, 0.0])
    x = sd.randn(9, 5)
    cbd.eval()
    y = cbd(x).numpy()
    keep = cbd.block_probs(x).numpy() > 0.5
    dense = np.maximum(x.numpy() @ cbd.layer.weight.numpy().T + cbd.layer.bias.numpy(), 0) * np.repeat(keep, 3, 1)
    np.testing.assert_allclose(y, dense, rtol=1e-5, atol=1e-6)
    assert cbd.last_active == pytest.approx(keep.mean())
    assert keep[:, 0].all() and not keep[:, 1].any()
    c64 = sd.nn.ConditionalBlockDropout(5, 12, 4, dtype=np.float64).eval()  # the sparse path is differentiable
    c64.policy.bias.data = sd.tensor([3.0, -3.0, 0.5, -0.5], dtype=np.float64)
    x64 = sd.tensor(np.random.default_rng(4).normal(size=(6, 5)), requires_grad=True)
    assert gradcheck(lambda a: c64(a), [x64], eps=1e-6, atol=1e-6)
    assert gradcheck(lambda w: c64(x64.detach()), [c64.layer.weight], eps=1e-6, atol=1e-6)


def test_dynamic_example_quick_figures():
    """examples/efficient/dynamic.py --quick on the digits: the cascade keeps (nearly) every 0 while running the
    big stage on a fraction of the inputs; top-1 MoE runs one expert per example and still classifies; the
    REINFORCE-trained block policy runs about half the blocks at a small accuracy cost."""
    res = load_example("dynamic").main(["--quick"])
    assert res["cascade_recall"] >= 0.95 and res["cascade_precision"] >= 0.9
    assert res["cascade_stage2_fraction"] < 0.4 and res["cascade_compute_saved"] > 0.6
    assert res["moe_soft_expert_evals_per_example"] == 4.0 and res["moe_top1_expert_evals_per_example"] == 1.0
    assert res["moe_soft_acc"] > 0.9 and res["moe_top1_acc"] > 0.85
    assert res["cbd_acc"] > 0.88 and 0.3 <= res["cbd_active_fraction"] <= 0.7
    assert res["all_blocks_active_fraction"] == 1.0
