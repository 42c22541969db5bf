"""Model compression (textbook 12.1.4): distillation loss (torch oracle, gradcheck), Distiller through fit,
mimic on corrupted inputs, magnitude pruning (torch.nn.utils.prune oracle), the digits example's figures."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import compress
from shendu.autograd.gradcheck import gradcheck
from shendu.nn.utils import prune

from ._examples import load_example


def _logits(seed, n=5, c=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c)) * 2


@pytest.mark.parametrize("T,alpha", [(1.0, 0.5), (4.0, 0.9), (2.5, 0.0), (3.0, 1.0)])
def test_distillation_loss_matches_torch_forward_and_backward(T, alpha):
    torch = pytest.importorskip("torch")
    s, t = _logits(0), _logits(1)
    y = np.array([0, 3, 1, 2, 2])
    ts = torch.tensor(s, requires_grad=True)
    tt = torch.tensor(t)
    tf = torch.nn.functional
    soft = tf.kl_div(tf.log_softmax(ts / T, -1), tf.log_softmax(tt / T, -1), log_target=True,
                     reduction="batchmean") * T * T
    want = alpha * soft + (1 - alpha) * tf.cross_entropy(ts, torch.tensor(y))
    want.backward()
    ss = sd.tensor(s, requires_grad=True)
    got = compress.distillation_loss(ss, sd.tensor(t), sd.tensor(y), T=T, alpha=alpha)
    got.backward()
    np.testing.assert_allclose(float(got.item()), float(want.item()), rtol=1e-10)
    np.testing.assert_allclose(ss.grad.numpy(), ts.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_distillation_loss_gradcheck_and_soft_targets_only():
    s = sd.tensor(_logits(2), requires_grad=True)
    t = sd.tensor(_logits(3))
    y = sd.tensor([1, 0, 2, 3, 0])
    assert gradcheck(lambda a: compress.distillation_loss(a, t, y, T=3.0, alpha=0.7), [s], eps=1e-6, atol=1e-6)
    # soft term is 0 iff the student matches the teacher; targets=None gives that term alone
    assert abs(float(compress.distillation_loss(t, t, None, T=2.0).item())) < 1e-12
    assert float(compress.distillation_loss(s, t, None, T=2.0).item()) > 0
    # the teacher is a constant: no gradient flows to it
    tg = sd.tensor(_logits(3), requires_grad=True)
    compress.distillation_loss(s, tg, y).backward()
    assert tg.grad is None
    with pytest.raises(ValueError, match="temperature"):
        compress.distillation_loss(s, t, y, T=0.0)
    with pytest.raises(ValueError, match="same shape"):
        compress.distillation_loss(s, t[:, :3], y)


def test_distiller_trains_only_the_student_through_fit():
    sd.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    teacher = sd.nn.Sequential(sd.nn.Linear(6, 16), sd.nn.Tanh(), sd.nn.Linear(16, 2))
    student = sd.nn.Linear(6, 2)
    d = compress.Distiller(student, teacher, temperature=3.0, alpha=0.8)
    assert sorted(d.state_dict()) == ["student.bias", "student.weight"]
    before_t = [p.numpy().copy() for p in teacher.parameters()]
    before_s = student.weight.numpy().copy()
    # in training mode the loss is the distillation loss against the teacher's logits on the same batch
    d.train()
    xb = sd.tensor(x[:8])
    out = d(xb)
    want = compress.distillation_loss(out, teacher(xb), sd.tensor(y[:8]), T=3.0, alpha=0.8)
    np.testing.assert_allclose(float(d.loss(out, sd.tensor(y[:8])).item()), float(want.item()), rtol=1e-6)
    d.eval()
    out = d(xb)
    np.testing.assert_allclose(float(d.loss(out, sd.tensor(y[:8])).item()),
                               float(F.cross_entropy(out, sd.tensor(y[:8])).item()), rtol=1e-6)
    d.compile(optimizer="adam", loss=d.loss, lr=1e-2)
    d.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for p, b in zip(teacher.parameters(), before_t):
        np.testing.assert_array_equal(p.numpy(), b)
    assert np.abs(student.weight.numpy() - before_s).max() > 1e-3


def test_mimic_on_corrupted_inputs_makes_student_match_teacher():
    """The book's procedure: a fixed teacher f, a student fitted to f(x) on corrupted samples of the training
    set, then compared with f on held-out inputs."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(200, 5)).astype(np.float32)
    sd.manual_seed(0)
    teacher = sd.nn.Sequential(sd.nn.Linear(5, 64), sd.nn.Tanh(), sd.nn.Linear(64, 3))
    student = sd.nn.Sequential(sd.nn.Linear(5, 8), sd.nn.Tanh(), sd.nn.Linear(8, 3))
    sampler = compress.corrupt_sampler(x, noise_std=0.05, mask_prob=0.1, clip=(0, 1), seed=1)
    xb = sampler(50).numpy()
    assert xb.shape == (50, 5) and xb.min() >= 0 and xb.max() <= 1 and (xb == 0).mean() > 0.03
    held = sd.tensor(rng.uniform(0, 1, size=(100, 5)).astype(np.float32))
    with sd.no_grad():
        before = float(F.mse_loss(student(held), teacher(held)).item())
    hist = compress.mimic(student, teacher, sampler, steps=300, batch_size=32, lr=1e-2)
    with sd.no_grad():
        after = float(F.mse_loss(student(held), teacher(held)).item())
    assert len(hist) == 300 and np.mean(hist[-20:]) < 0.2 * np.mean(hist[:20])
    assert after < 0.1 * before
    assert sum(p.numel() for p in student.parameters()) < 0.2 * sum(p.numel() for p in teacher.parameters())
    with pytest.raises(ValueError, match="loss"):
        compress.mimic(student, teacher, sampler, steps=1, loss="hinge")


# --- pruning ------------------------------------------------------------------------------------------------------
def _pair(torch, shape=(6, 5), seed=0):
    w = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    m = sd.nn.Linear(shape[1], shape[0])
    tm = torch.nn.Linear(shape[1], shape[0])
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(w))
    m.weight.data = sd.tensor(w)
    return m, tm


def test_l1_unstructured_matches_torch_including_iterative_pruning_and_remove():
    torch = pytest.importorskip("torch")
    import torch.nn.utils.prune as tp
    m, tm = _pair(torch)
    prune.l1_unstructured(m, "weight", amount=0.3)
    tp.l1_unstructured(tm, "weight", amount=0.3)
    np.testing.assert_array_equal(m.weight_mask.numpy(), tm.weight_mask.numpy())
    np.testing.assert_array_equal(m.weight.detach().numpy(), tm.weight.detach().numpy())
    assert set(m.state_dict()) == set(tm.state_dict())
    prune.l1_unstructured(m, "weight", amount=4)  # prunes among the entries still kept
    tp.l1_unstructured(tm, "weight", amount=4)
    np.testing.assert_array_equal(m.weight_mask.numpy(), tm.weight_mask.numpy())
    assert prune.is_pruned(m) and abs(prune.sparsity(m) - (9 + 4) / 30) < 1e-9
    prune.remove(m, "weight")
    tp.remove(tm, "weight")
    assert not prune.is_pruned(m) and set(m.state_dict()) == set(tm.state_dict())
    np.testing.assert_array_equal(m.weight.detach().numpy(), tm.weight.detach().numpy())
    assert isinstance(m.weight, sd.nn.Parameter)
    with pytest.raises(ValueError, match="not pruned"):
        prune.remove(m, "weight")
    with pytest.raises(ValueError, match="amount"):
        prune.l1_unstructured(m, "weight", amount=1.5)


def test_ln_structured_and_global_unstructured_match_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.utils.prune as tp
    m, tm = _pair(torch, seed=3)
    prune.ln_structured(m, "weight", amount=2, n=2, dim=0)
    tp.ln_structured(tm, "weight", amount=2, n=2, dim=0)
    np.testing.assert_array_equal(m.weight_mask.numpy(), tm.weight_mask.numpy())
    a, ta = _pair(torch, (4, 5), seed=4)
    b, tb = _pair(torch, (3, 4), seed=5)
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured, amount=0.5)
    tp.global_unstructured([(ta, "weight"), (tb, "weight")], pruning_method=tp.L1Unstructured, amount=0.5)
    np.testing.assert_array_equal(a.weight_mask.numpy(), ta.weight_mask.numpy())
    np.testing.assert_array_equal(b.weight_mask.numpy(), tb.weight_mask.numpy())


def test_pruned_weights_get_zero_gradient_and_stay_zero_during_fine_tuning():
    sd.manual_seed(0)
    m = sd.nn.Linear(8, 4)
    prune.l1_unstructured(m, "weight", amount=0.5)
    mask = m.weight_mask.numpy().copy()
    opt = sd.optim.SGD(m.parameters(), lr=0.1)
    x = sd.randn(16, 8)
    for _ in range(3):
        opt.zero_grad()
        (m(x) ** 2).mean().backward()
        assert (m.weight_orig.grad.numpy()[mask == 0] == 0).all()
        assert np.abs(m.weight_orig.grad.numpy()[mask == 1]).max() > 0
        opt.step()
    assert (m.weight.detach().numpy()[mask == 0] == 0).all()
    assert isinstance(m, sd.nn.Linear) and type(m).__name__ == "Linear"
    r = sd.nn.Linear(8, 4)
    prune.random_unstructured(r, "weight", amount=10)
    assert int((r.weight_mask.numpy() == 0).sum()) == 10


def test_distill_example_quick_figures():
    """examples/efficient/distill.py --quick: the measured figures exist and are sane (teacher ~0.96; small
    student alone ~0.94; distilled within 3 points of it; mimic on corrupted inputs > 0.85; 80%-pruned teacher
    fine-tuned back within 2 points of the teacher)."""
    res = load_example("distill").main(["--quick"])
    assert res["teacher_acc"] > 0.93
    assert res["student_params"] < 0.1 * res["teacher_params"]
    assert res["student_alone_acc"] > 0.88
    assert res["student_distilled_acc"] > 0.88 and res["student_distilled_acc"] >= res["student_alone_acc"] - 0.03
    assert res["student_mimic_acc"] > 0.85
    assert abs(res["pruned80_sparsity"] - 0.8) < 1e-3
    assert res["pruned80_acc_after_finetune"] >= res["teacher_acc"] - 0.02
