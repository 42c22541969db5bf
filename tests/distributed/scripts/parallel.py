"""Model parallelism (GPipe micro-batches) == single process; data-parallel predict in order; parameter server
(Downpour) on digits vs single-process SGD, with its staleness."""
import numpy as np
from _common import check, dist, emit, init, numpy, sd

from shendu.data.datasets.digits import load_digits
from shendu.distributed import ParameterServer, PipelineParallel, predict
from shendu.train import predict as predict_one

rank, world = init()
check(world == 2, "2 ranks")
out = {}
lossf = sd.nn.functional.cross_entropy

# --- pipeline: Linear-Tanh on rank 0 | Linear on rank 1, float64, vs the whole model in one process ----------------
rng = np.random.default_rng(0)
X, Y = rng.normal(size=(16, 5)), rng.integers(0, 3, 16)
worst = 0.0
for chunks in (4, 3):
    sd.manual_seed(2)
    full = sd.nn.Sequential(sd.nn.Linear(5, 8), sd.nn.Tanh(), sd.nn.Linear(8, 3)).double()
    sd.manual_seed(2)
    copy = sd.nn.Sequential(sd.nn.Linear(5, 8), sd.nn.Tanh(), sd.nn.Linear(8, 3)).double()
    stage = sd.nn.Sequential(copy[0], copy[1]) if rank == 0 else sd.nn.Sequential(copy[2])
    pipe = PipelineParallel(stage, chunks=chunks)
    o_full = sd.optim.SGD(full.parameters(), lr=0.1, momentum=0.9)
    o_stage = sd.optim.SGD(stage.parameters(), lr=0.1, momentum=0.9)
    xt, yt = sd.tensor(X), sd.tensor(Y)
    for step in range(3):
        o_full.zero_grad()
        lf = lossf(full(xt), yt)
        lf.backward()
        o_full.step()
        o_stage.zero_grad()
        lp = pipe.train_step(xt, yt, lossf)
        o_stage.step()
        check(abs(lp - float(numpy(lf))) < 1e-12, f"pipeline loss {lp} vs {numpy(lf)}")
        mine = [full[0], full[1]] if rank == 0 else [full[2]]
        ref_params = [p for m in mine for p in m.parameters()]
        for p, q in zip(ref_params, stage.parameters()):
            d = float(np.abs(numpy(p) - numpy(q)).max())
            worst = max(worst, d)
            check(d < 1e-12, f"pipeline chunks={chunks} step {step}: max |diff| {d}")
    yo = pipe(xt)
    with sd.no_grad():
        check(np.allclose(numpy(yo), numpy(full(xt)), atol=1e-12), "pipelined inference")
out["pipeline_max_abs_diff"] = worst

# --- data-parallel predict over shards, gathered in order (101 rows: uneven shards) --------------------------------
(xtr, ytr), (xte, yte) = load_digits()
sd.manual_seed(0)
net = sd.nn.Sequential(sd.nn.Linear(64, 32), sd.nn.ReLU(), sd.nn.Linear(32, 10))
xs = xte[:101]
pd = predict(net, xs, batch_size=16)
check(pd.shape == (101, 10) and np.allclose(pd, predict_one(net, xs), atol=1e-6), "predict over shards")


# --- parameter server: rank 0 serves, rank 1 works; vs single-process SGD on digits ----------------------------
def mlp():
    sd.manual_seed(1)
    return sd.nn.Sequential(sd.nn.Linear(64, 32), sd.nn.Tanh(), sd.nn.Linear(32, 10))


def full_loss(m):
    with sd.no_grad():
        return float(numpy(lossf(m(sd.tensor(xtr)), sd.tensor(ytr))))


epochs, lr, bs = 3, 0.1, 32
m = mlp()
ps = ParameterServer(m, lr=lr)
st = ps.fit(xtr, ytr, "cross_entropy", epochs=epochs, batch_size=bs, fetch_every=4)
if rank == 0:
    steps = epochs * -(-len(xtr) // bs)
    check(st["updates"] == steps, f"server applied {st['updates']} updates, expected {steps}")
    # one worker pulling every 4 steps: its 4 gradients are 0, 1, 2, 3 updates stale
    check(st["max_staleness"] == 3 and abs(st["mean_staleness"] - np.mean([i % 4 for i in range(steps)])) < 1e-9,
          f"staleness {st}")
    base = mlp()
    opt = sd.optim.SGD(base.parameters(), lr=lr)
    g = np.random.default_rng(0)
    for _ in range(epochs):
        order = g.permutation(len(xtr))
        for s in range(0, len(order), bs):
            b = order[s:s + bs]
            opt.zero_grad()
            lossf(base(sd.tensor(xtr[b])), sd.tensor(ytr[b])).backward()
            opt.step()
    l_ps, l_one = full_loss(m), full_loss(base)
    check(l_ps < l_one + 0.1, f"parameter server loss {l_ps} vs single process {l_one} (tolerance 0.1)")
    out["ps"] = dict(st, loss=l_ps, single_loss=l_one)
else:
    check(st["pushes"] > 0 and st["pulls"] == -(-st["pushes"] // 4), f"worker {st}")
emit(out)
dist.destroy_process_group()
