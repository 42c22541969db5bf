"""Low precision on the digits (textbook 12.1.6: 8-16 bits suffice; training needs more than inference).

    python examples/efficient/low_precision.py [--quick] [--hidden 128] [--epochs 30]

1. Trains an MLP in float32 and in mixed precision (``amp.autocast`` with bfloat16 on the CPU, float32
   master weights; and float16 with a ``GradScaler``); reports test accuracy and time per epoch.
2. Post-training: the float32 model run with bfloat16 / float16 weights, with int8 per-channel weights
   (``quantize.quantize_dynamic``) and with 16/8/4-bit dynamic fixed point (one exponent per layer);
   reports test accuracy, the accuracy lost and the weight memory.
``main`` returns the figures as a dict.
"""
from __future__ import annotations

import argparse
import copy
import time

import numpy as np

import shendu as sd
import shendu.nn.functional as F
from shendu import nn, quantize
from shendu.data.datasets import load_digits


def mlp(hidden, seed=0):
    sd.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def accuracy(model, x, y, dtype=None):
    model.eval()
    with sd.no_grad():
        xt = sd.tensor(x)
        out = model(xt if dtype is None else xt.type(dtype))
    return float((out.float().numpy().argmax(1) == y).mean())


def train(model, x, y, epochs, amp_dtype=None, scaler=None, lr=3e-3, batch=64, seed=0):
    opt = sd.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    X, Y = sd.tensor(x), sd.tensor(y)
    dev = X.device.type
    skipped = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = sd.tensor(perm[i:i + batch])
            opt.zero_grad()
            with sd.amp.autocast(dev, dtype=amp_dtype, enabled=amp_dtype is not None):
                loss = F.cross_entropy(model(X[idx]), Y[idx])
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                scaler.scale(loss).backward()
                before = scaler.get_scale()
                scaler.step(opt)
                scaler.update()
                skipped += scaler.get_scale() < before
    return (time.perf_counter() - t0) / epochs, skipped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--hidden", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    a = ap.parse_args(argv)
    epochs = a.epochs or (5 if a.quick else 30)
    a.hidden = a.hidden or (64 if a.quick else 128)
    (x, y), (xt, yt) = load_digits()
    res = {}
    fp32 = mlp(a.hidden)
    res["train_fp32_s_per_epoch"], _ = train(fp32, x, y, epochs)
    res["acc_fp32"] = accuracy(fp32, xt, yt)
    bf = mlp(a.hidden)
    res["train_amp_bf16_s_per_epoch"], _ = train(bf, x, y, epochs, amp_dtype=sd.bfloat16)
    res["acc_amp_bf16"] = accuracy(bf, xt, yt)
    hf = mlp(a.hidden)
    scaler = sd.amp.GradScaler(init_scale=2.0 ** 16, growth_interval=200)
    res["train_amp_fp16_s_per_epoch"], res["amp_fp16_skipped_steps"] = train(hf, x, y, epochs, amp_dtype=sd.float16,
                                                                             scaler=scaler)
    res["acc_amp_fp16_gradscaler"] = accuracy(hf, xt, yt)
    for name, m in (("bf16", bf), ("fp16", hf)):  # the runs did differ from float32 (low-precision arithmetic)
        res[f"amp_{name}_max_weight_diff"] = max(float(np.abs(p.numpy() - q.numpy()).max())
                                                 for p, q in zip(fp32.parameters(), m.parameters()))
    res["amp_fp16_final_scale"] = scaler.get_scale()

    res["weights_fp32_bytes"] = quantize.model_nbytes(fp32)
    for name, dt in (("bf16", sd.bfloat16), ("fp16", sd.float16)):
        m = copy.deepcopy(fp32).to(dt)
        res[f"acc_{name}_weights"] = accuracy(m, xt, yt, dtype=dt)
        res[f"weights_{name}_bytes"] = quantize.model_nbytes(m)
    q8 = quantize.quantize_dynamic(fp32)
    res["acc_int8_per_channel"] = accuracy(q8, xt, yt)
    res["weights_int8_bytes"] = quantize.model_nbytes(q8)
    for bits in (16, 8, 4):
        m = copy.deepcopy(fp32)
        quantize.dynamic_fixed_point_(m, bits=bits)
        res[f"acc_dfp{bits}"] = accuracy(m, xt, yt)
    for k, v in res.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return res


if __name__ == "__main__":
    main()
