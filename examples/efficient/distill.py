"""Model compression on the digits (textbook 12.1.4): a small student vs the same student trained alone.

    python examples/efficient/distill.py [--quick] [--student 12] [--teacher 256] [--T 4] [--alpha 0.9]

Trains a big MLP teacher, then four copies of one small student (same seed, same initial weights):
(a) alone on the labels, (b) by knowledge distillation (``compress.Distiller`` through the normal
compile/fit loop: alpha * T^2 * KL(soft teacher || soft student) + (1 - alpha) * CE), (c) by mimicking the
teacher's logits on corrupted training inputs (``compress.mimic`` + ``corrupt_sampler``, no labels at all),
and finally prunes 80% of the teacher's weights by magnitude and fine-tunes it (``nn.utils.prune``).
Prints test accuracies and parameter counts; ``main`` returns them as a dict. ``--labelled N`` trains the
students on only N labelled examples (the teacher sees all), where soft targets help most.
"""
from __future__ import annotations

import argparse
import copy

import shendu as sd
from shendu import compress, nn
from shendu.data.datasets import load_digits
from shendu.nn.utils import prune


def mlp(hidden, seed):
    sd.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def accuracy(model, x, y):
    model.eval()
    with sd.no_grad():
        return float((model(sd.tensor(x)).argmax(dim=-1).numpy() == y).mean())


def n_params(model):
    return int(sum(p.numel() for p in model.parameters()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short run (CI)")
    ap.add_argument("--student", type=int, default=12, help="student hidden units")
    ap.add_argument("--teacher", type=int, default=256, help="teacher hidden units")
    ap.add_argument("--T", type=float, default=4.0)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--labelled", type=int, default=None, help="labelled examples for the students (default all)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    epochs = a.epochs or (12 if a.quick else 40)
    (x, y), (xt, yt) = load_digits()
    xs, ys = (x, y) if a.labelled is None else (x[:a.labelled], y[:a.labelled])

    teacher = mlp(a.teacher, a.seed + 1)
    teacher.compile(optimizer="adam", loss="cross_entropy", lr=3e-3)
    teacher.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    res = {"teacher_acc": accuracy(teacher, xt, yt), "teacher_params": n_params(teacher)}

    alone = mlp(a.student, a.seed)
    alone.compile(optimizer="adam", loss="cross_entropy", lr=3e-3)
    alone.fit(xs, ys, epochs=epochs, batch_size=32, verbose=0)
    res["student_params"] = n_params(alone)
    res["student_alone_acc"] = accuracy(alone, xt, yt)

    dist = compress.Distiller(mlp(a.student, a.seed), teacher, temperature=a.T, alpha=a.alpha)
    dist.compile(optimizer="adam", loss=dist.loss, lr=3e-3)
    dist.fit(xs, ys, epochs=epochs, batch_size=32, verbose=0)
    res["student_distilled_acc"] = accuracy(dist.student, xt, yt)

    mim = mlp(a.student, a.seed)
    sampler = compress.corrupt_sampler(x, noise_std=0.1, mask_prob=0.1, clip=(0.0, 1.0), seed=a.seed)
    compress.mimic(mim, teacher, sampler, steps=epochs * len(x) // 32, batch_size=32, lr=3e-3, loss="mse")
    res["student_mimic_acc"] = accuracy(mim, xt, yt)

    pruned = copy.deepcopy(teacher)
    for layer in (pruned[0], pruned[2]):
        prune.l1_unstructured(layer, "weight", amount=0.8)
    res["pruned80_acc_before_finetune"] = accuracy(pruned, xt, yt)
    pruned.compile(optimizer="adam", loss="cross_entropy", lr=1e-3)
    pruned.fit(x, y, epochs=max(2, epochs // 4), batch_size=32, verbose=0)
    res["pruned80_acc_after_finetune"] = accuracy(pruned, xt, yt)
    res["pruned80_sparsity"] = prune.sparsity(pruned[0])
    for k, v in res.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return res


if __name__ == "__main__":
    main()
