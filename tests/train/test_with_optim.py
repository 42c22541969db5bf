"""fit with shendu.optim optimizers and schedulers (PyTorch-style `scheduler.step()` once per epoch)."""
import numpy as np
import pytest

import shendu as sd
from shendu.train import ModelCheckpoint, fit
from tests.train.helpers import digits

pytestmark = pytest.mark.skipif(not hasattr(sd, "optim"), reason="needs shendu.optim")


@pytest.fixture(scope="module")
def data():
    (x, y), (xv, yv) = digits()
    return (x[:300], y[:300]), (xv[:100], yv[:100])


def _model():
    nn = sd.nn
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def test_step_lr_is_stepped_once_per_epoch(data):
    sd.manual_seed(0)
    m = _model()
    opt = sd.optim.SGD(m.parameters(), lr=0.1)
    sch = sd.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    h = fit(m, data[0], loss="cross_entropy", optimizer=opt, scheduler=sch, epochs=5, verbose=0)
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_reduce_on_plateau_gets_the_validation_loss(data):
    sd.manual_seed(0)
    m = _model()
    opt = sd.optim.SGD(m.parameters(), lr=1e-6)  # nothing improves: the lr is cut after `patience` epochs
    sch = sd.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    h = fit(m, data[0], loss="cross_entropy", optimizer=opt, scheduler=sch, val_data=data[1], epochs=4, verbose=0)
    assert sch.best == pytest.approx(h["val_loss"][0]) and opt.param_groups[0]["lr"] < 1e-6


def test_resume_with_adam_and_cosine_schedule_is_exact(data, tmp_path):
    def run(out, resume_from=None):
        sd.manual_seed(0)
        m = _model()
        opt = sd.optim.Adam(m.parameters(), lr=3e-3)
        sch = sd.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
        h = fit(m, data[0], loss="cross_entropy", optimizer=opt, scheduler=sch, epochs=5, batch_size=32,
                val_data=data[1], callbacks=[ModelCheckpoint(str(out / "c{epoch}.safetensors"))], verbose=0,
                resume_from=resume_from)
        return m, h

    full, h1 = run(tmp_path / "a")
    resumed, h2 = run(tmp_path / "b", resume_from=tmp_path / "a" / "c3.safetensors")
    assert h1.history == h2.history
    for k, v in full.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k].numpy(), v.numpy())


def test_clip_grad_norm_matches_optim_clip(data):
    from shendu.train.resolve import clip_grad_norm

    sd.manual_seed(0)
    a, b = _model(), _model()
    b.load_state_dict(a.state_dict())
    x, y = sd.tensor(data[0][0][:50]), sd.tensor(data[0][1][:50])
    for m in (a, b):
        sd.nn.functional.cross_entropy(m(x), y).backward()
    n1 = clip_grad_norm(list(a.parameters()), 0.01)
    n2 = sd.optim.clip_grad_norm_(list(b.parameters()), 0.01)
    assert n1 == pytest.approx(float(n2), rel=1e-6)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-9)
