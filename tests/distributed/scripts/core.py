"""Collectives, W12.9 (N workers x batch B == one worker x batch N*B), DDP step for step, no_sync, sampler."""
import numpy as np
from _common import DEV, check, dist, emit, init, numpy, sd

from shendu.distributed import _group
from shendu.nn.parallel import DistributedDataParallel as DDP
from shendu.utils.data import DataLoader, DistributedSampler, TensorDataset

rank, world = init()
check(world == 2, f"expected 2 ranks, got {world}")
out = {}

# --- collectives on default-device tensors -------------------------------------------------------------------------
base = np.arange(4, dtype=np.float32)
t = sd.tensor(base + rank)
dist.all_reduce(t)
check(np.array_equal(numpy(t), 2 * base + 1), f"all_reduce sum: {numpy(t)}")
t = sd.tensor(base + rank)
dist.all_reduce(t, op=dist.ReduceOp.MAX)
check(np.array_equal(numpy(t), base + 1), f"all_reduce max: {numpy(t)}")
t = sd.tensor(base + rank)
dist.all_reduce(t, op=dist.ReduceOp.AVG)
check(np.allclose(numpy(t), base + 0.5) and t.dtype == sd.float32, f"all_reduce avg: {numpy(t)} {t.dtype}")
b = sd.tensor(np.full(3, 7.0 * rank, np.float32))
dist.broadcast(b, src=1)
check(np.array_equal(numpy(b), np.full(3, 7.0)), f"broadcast: {numpy(b)}")
lst = [sd.zeros(2) for _ in range(world)]
dist.all_gather(lst, sd.tensor(np.array([rank, 10.0 * rank], np.float32)))
check(all(np.array_equal(numpy(lst[r]), [r, 10.0 * r]) for r in range(world)), "all_gather")
o = sd.zeros(2)
dist.reduce_scatter(o, [sd.tensor(np.array([1.0, 2.0], np.float32) * (rank + 1)),
                        sd.tensor(np.array([3.0, 4.0], np.float32) * (rank + 1))])
check(np.array_equal(numpy(o), [[3.0, 6.0], [9.0, 12.0]][rank]), f"reduce_scatter: {numpy(o)}")
if rank == 0:
    dist.send(sd.tensor(np.arange(5, dtype=np.float32)), dst=1, tag=3)
else:
    r = sd.zeros(5)
    dist.recv(r, src=0, tag=3)
    check(np.array_equal(numpy(r), np.arange(5)), "send/recv")
g = _group.all_gather_array(np.arange(rank + 2))
check(g.tolist() == [0, 1, 0, 1, 2], f"all_gather_array (uneven): {g}")
dist.barrier()
try:
    dist.all_reduce(np.ones(2))
    check(False, "all_reduce accepted a NumPy array")
except TypeError as e:
    check("all_reduce" in str(e), str(e))
out["collectives"] = "ok"


# --- W12.9: 2 workers x batch B == 1 worker x batch 2B, float64, SGD and Adam, with/without bucketing -----------
def mlp(seed):
    sd.manual_seed(seed)
    return sd.nn.Sequential(sd.nn.Linear(5, 8), sd.nn.Tanh(), sd.nn.Linear(8, 3)).double()


rng = np.random.default_rng(0)
B = 8
X = rng.normal(size=(2 * B, 5))
Y = rng.integers(0, 3, 2 * B)
lossf = sd.nn.functional.cross_entropy
worst = 0.0
for opt_name in ("sgd", "adam"):
    for cap in (0, 0.0003, 25):  # one parameter per bucket, two buckets, one bucket
        ref = mlp(1)
        inner = mlp(1 + 10 * rank)
        launched = []  # buckets already reducing when backward hands over the first layer's weight gradient
        inner[0].weight.register_post_accumulate_grad_hook(lambda p: launched.append(ddp._launched))
        ddp = DDP(inner, bucket_cap_mb=cap)  # rank 1 starts elsewhere: the broadcast must fix it
        nb = len(ddp._buckets)
        check(nb == {0: 4, 0.0003: 2, 25: 1}[cap], f"bucket_cap_mb={cap}: {nb} buckets")

        def make(params):
            if opt_name == "sgd":
                return sd.optim.SGD(params, lr=0.1, momentum=0.9)
            return sd.optim.Adam(params, lr=0.01)

        o_ref, o_ddp = make(ref.parameters()), make(ddp.parameters())
        xs, ys = sd.tensor(X[rank * B:(rank + 1) * B]), sd.tensor(Y[rank * B:(rank + 1) * B])
        for step in range(4):
            o_ref.zero_grad()
            lossf(ref(sd.tensor(X)), sd.tensor(Y)).backward()
            o_ref.step()
            o_ddp.zero_grad()
            lossf(ddp(xs), ys).backward()
            o_ddp.step()
            if cap == 0:  # 4 buckets: those of the last layer started before backward reached the first
                check(launched[-1] >= 2, f"buckets launched during backward: {launched}")
            for p, q in zip(ref.parameters(), ddp.module.parameters()):
                check(p.dtype == sd.float64 and q.dtype == sd.float64, "float64 kept")
                d = float(np.abs(numpy(p) - numpy(q)).max())
                worst = max(worst, d)
                check(d < 1e-12, f"W12.9 {opt_name} cap={cap} step {step}: max |diff| {d}")
out["w12_9_max_abs_diff"] = worst

# --- DDP with DistributedSampler == single process, step for step (float32, default device) --------------------
N, Bl = 64, 8
Xs = rng.normal(size=(N, 10)).astype(np.float32)
Ys = rng.integers(0, 3, N)


def net(seed):
    sd.manual_seed(seed)
    return sd.nn.Sequential(sd.nn.Linear(10, 16), sd.nn.ReLU(), sd.nn.Linear(16, 3))


ref, ddp = net(5), DDP(net(5 + rank))
check(all(str(p.device).startswith(DEV) for p in ddp.parameters()), f"parameters not on {DEV}")
o_ref, o_ddp = sd.optim.Adam(ref.parameters(), lr=0.01), sd.optim.Adam(ddp.parameters(), lr=0.01)
ds = TensorDataset(Xs, Ys)
sampler = DistributedSampler(ds, shuffle=True, seed=3)
loader = DataLoader(ds, batch_size=Bl, sampler=sampler)
steps, worst32 = 0, 0.0
for epoch in range(2):
    sampler.set_epoch(epoch)
    perm = np.random.default_rng(3 + epoch).permutation(N)
    for i, (xb, yb) in enumerate(loader):
        xb, yb = xb.to(DEV), yb.to(DEV)
        idx = perm[i * 2 * Bl:(i + 1) * 2 * Bl]
        o_ref.zero_grad()
        lref = lossf(ref(sd.tensor(Xs[idx])), sd.tensor(Ys[idx]))
        lref.backward()
        o_ref.step()
        o_ddp.zero_grad()
        loss = lossf(ddp(xb), yb)
        loss.backward()
        o_ddp.step()
        lt = loss.detach()
        dist.all_reduce(lt, op=dist.ReduceOp.AVG)
        check(abs(float(numpy(lt)) - float(numpy(lref))) < 1e-5, f"loss step {steps}: {numpy(lt)} vs {numpy(lref)}")
        for p, q in zip(ref.parameters(), ddp.module.parameters()):
            d = float(np.abs(numpy(p) - numpy(q)).max())
            worst32 = max(worst32, d)
            check(d < 1e-5, f"DDP step {steps}: max |diff| {d}")
        steps += 1
check(steps == 8, f"steps {steps}")
out["ddp_steps"], out["ddp_max_abs_diff_f32"] = steps, worst32

# --- no_sync: accumulate locally, the next synced backward averages the sum ------------------------------------------
m = net(9)
ddp = DDP(net(9), bucket_cap_mb=0)
xa, ya = sd.tensor(Xs[rank * 4:(rank + 1) * 4]), sd.tensor(Ys[rank * 4:(rank + 1) * 4])
xb_, yb_ = sd.tensor(Xs[8 + rank * 4:8 + (rank + 1) * 4]), sd.tensor(Ys[8 + rank * 4:8 + (rank + 1) * 4])
with ddp.no_sync():
    lossf(ddp(xa), ya).backward()
local = [numpy(p.grad).copy() for p in ddp.module.parameters()]
lossf(ddp(xb_), yb_).backward()
lossf(m(xa), ya).backward()
lossf(m(xb_), yb_).backward()
for p, q in zip(m.parameters(), ddp.module.parameters()):
    g = p.grad.detach()
    dist.all_reduce(g, op=dist.ReduceOp.AVG)
    check(np.allclose(numpy(q.grad), numpy(g), atol=1e-6), "no_sync: synced grads != average of local sums")
check(not all(np.allclose(v, numpy(q.grad)) for v, q in zip(local, ddp.module.parameters())), "no_sync: no reduction")


# --- unused parameters ---------------------------------------------------------------------------------------------
class Branchy(sd.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = sd.nn.Linear(3, 2), sd.nn.Linear(3, 2)

    def forward(self, x):
        return self.a(x)


xx = sd.tensor(np.ones((2, 3), np.float32))
d1 = DDP(Branchy())
d1(xx).sum().backward()
try:
    d1(xx)
    check(False, "an unfinished reduction was not reported")
except RuntimeError as e:
    check("find_unused_parameters" in str(e), str(e))
d2 = DDP(Branchy(), find_unused_parameters=True)
for _ in range(2):
    d2(xx).sum().backward()
check(
    np.allclose(numpy(d2.module.a.weight.grad), 4 * np.ones((2, 3))), "find_unused: used grads (2 backwards x 2 rows)"
)
check(np.allclose(numpy(d2.module.b.weight.grad), 0), "find_unused: unused grads are 0")
o2 = d2(xx)  # fit's order: forward, zero_grad, backward
d2.module.zero_grad()
o2.sum().backward()
check(np.allclose(numpy(d2.module.a.weight.grad), 2 * np.ones((2, 3))), "find_unused after zero_grad")

# --- DistributedSampler: each example once per epoch (padding / drop_last) -----------------------------------------
cover = {}
for n, drop in ((10, False), (11, False), (11, True)):
    s = DistributedSampler(list(range(n)), shuffle=True, seed=1, drop_last=drop)
    orders = []
    for e in range(2):
        s.set_epoch(e)
        mine = np.array(list(s))
        check(len(mine) == len(s), "len")
        allidx = _group.all_gather_array(mine)
        orders.append(allidx.tolist())
        if n == 10 or drop:
            check(len(allidx) == 10 and len(set(allidx.tolist())) == 10, f"n={n} drop={drop}: {sorted(allidx)}")
        else:
            check(len(allidx) == 12 and set(allidx.tolist()) == set(range(11)), f"n=11 padded: {sorted(allidx)}")
    check(orders[0] != orders[1], "set_epoch changes the order")
    cover[f"{n}{'_drop' if drop else ''}"] = len(orders[0])
out["sampler_sizes"] = cover
emit(out)
dist.destroy_process_group()
