"""Run the same small float64 network under a shendu optimizer and a torch.optim one; compare trajectories."""
import numpy as np

import shendu as sd


def make_problem(seed=0, n=16, sizes=(4, 6, 3)):
    rng = np.random.default_rng(seed)
    ws = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        ws.append(rng.standard_normal((a, b)) * 0.7)
        ws.append(rng.standard_normal(b) * 0.1)
    x = rng.standard_normal((n, sizes[0]))
    y = rng.standard_normal((n, sizes[-1]))
    return ws, x, y


def sd_loss(params, x, y):
    h = sd.tensor(x)
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = sd.tanh(h)
    return ((h - sd.tensor(y)) ** 2).mean()


def th_loss(params, x, y):
    import torch

    h = torch.tensor(x)
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = torch.tanh(h)
    return ((h - torch.tensor(y)) ** 2).mean()


def run_pair(sd_make, th_make, steps=50, seed=0, groups=None, sched=None, every=None, closure=False):
    """sd_make(params) / th_make(params) build the optimizers (params: list, or groups if `groups` splits
    indices); sched=(sd_sched_make, th_sched_make) optional; returns (sd trajectory, torch trajectory)."""
    import torch

    ws, x, y = make_problem(seed)
    ps = [sd.nn.Parameter(sd.tensor(w.copy())) for w in ws]
    ts = [torch.tensor(w.copy(), requires_grad=True) for w in ws]
    if groups is None:
        so, to = sd_make(ps), th_make(ts)
    else:
        so = sd_make([dict(params=[ps[i] for i in idx], **kw) for idx, kw in groups])
        to = th_make([dict(params=[ts[i] for i in idx], **kw) for idx, kw in groups])
    ss = ts_ = None
    if sched is not None:
        ss, ts_ = sched[0](so), sched[1](to)
    out_sd, out_th = [], []
    for _ in range(steps):
        if closure:
            def c_sd():
                so.zero_grad()
                loss = sd_loss(ps, x, y)
                loss.backward()
                return loss

            def c_th():
                to.zero_grad()
                loss = th_loss(ts, x, y)
                loss.backward()
                return loss

            so.step(c_sd)
            to.step(c_th)
        else:
            so.zero_grad()
            sd_loss(ps, x, y).backward()
            so.step()
            to.zero_grad()
            th_loss(ts, x, y).backward()
            to.step()
        if ss is not None:
            ss.step()
            ts_.step()
        out_sd.append(np.concatenate([p.numpy().ravel() for p in ps]))
        out_th.append(np.concatenate([t.detach().numpy().ravel() for t in ts]))
    return np.array(out_sd), np.array(out_th), so, to, ps, ts


def assert_same(sd_make, th_make, steps=50, rtol=1e-6, atol=1e-9, **kw):
    a, b, *_ = run_pair(sd_make, th_make, steps=steps, **kw)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert np.abs(a[-1] - a[0]).max() > 1e-3  # the parameters really moved
    return a, b
