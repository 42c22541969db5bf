"""Gallery: model compression (textbook 12.1.4): a small network trained to mimic a big one's (temperature-
softened) outputs on many corrupted copies of the training inputs beats the same small network trained on the
labelled examples alone (Bucilua et al. 2006; Hinton et al. 2015)."""
from __future__ import annotations

import numpy as np

from ._core import digits, experiment, new_figure


@experiment("distillation", title="Distillation: a small model learns better from a big one",
            claim="The big model's outputs on an essentially unlimited stream of inputs near the data (corrupted "
                  "training examples) carry more information than the few labels, including how likely the wrong "
                  "classes are; a small model fitted to them generalizes better than the same small model "
                  "trained on the labelled set.",
            section="textbook 12.1.4 (model compression)",
            criterion="mean test accuracy of 3 mimicking students > that of the same 3 students trained directly, "
                      "student < 1/10 of the teacher's parameters",
            judge=lambda n: n["test_acc_student_mimic"] > n["test_acc_student_direct"]
            and n["params_student"] * 10 < n["params_teacher"])
def distillation(quick=True, seed=0):
    from .. import manual_seed, nn, optim
    from ..compress import corrupt_sampler, mimic
    from ..nn.functional import cross_entropy
    from ..train.strategies._loop import accuracy, minibatch_fit

    (xtr, ytr), (xte, yte) = digits()
    n_train, n_students = 300, 3
    x, y = xtr[:n_train], ytr[:n_train]
    manual_seed(seed)
    h = 128 if quick else 256
    teacher = nn.Sequential(nn.Linear(64, h), nn.ReLU(), nn.Dropout(0.3), nn.Linear(h, h), nn.ReLU(),
                            nn.Dropout(0.3), nn.Linear(h, 10))
    minibatch_fit(teacher, lambda a, b: cross_entropy(teacher(a), b), (x, y), 40 if quick else 60, 32,
                  optimizer=optim.Adam(teacher.parameters(), lr=1e-3), seed=seed)
    teacher.eval()

    def student(s):
        manual_seed(s)
        return nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))

    steps = 1000 if quick else 3000
    acc_direct, acc_mimic = [], []
    for s in range(seed + 1, seed + 1 + n_students):   # small students vary a lot: average a few
        direct = student(s)
        hist_direct = minibatch_fit(direct, lambda a, b, m=direct: cross_entropy(m(a), b), (x, y), 60, 32,
                                    optimizer=optim.Adam(direct.parameters(), lr=3e-3), seed=s)
        acc_direct.append(accuracy(direct, xte, yte))
        mimicked = student(s)
        hist_mimic = mimic(mimicked, teacher, corrupt_sampler(x, noise_std=0.1, mask_prob=0.1, clip=(0.0, 1.0),
                                                              seed=s),
                           steps=steps, batch_size=64, lr=3e-3, loss="kl", temperature=4.0)
        acc_mimic.append(accuracy(mimicked, xte, yte))
    n = {"n_labelled": n_train, "params_teacher": int(sum(p.numel() for p in teacher.parameters())),
         "params_student": int(sum(p.numel() for p in direct.parameters())), "students": n_students,
         "test_acc_teacher": accuracy(teacher, xte, yte), "test_acc_student_direct": float(np.mean(acc_direct)),
         "test_acc_student_mimic": float(np.mean(acc_mimic)), "mimic_steps": steps}
    fig, axes = new_figure(2)
    names = ["teacher", "students direct\n(mean)", "students mimic\n(mean)"]
    axes[0].bar(names, [n["test_acc_teacher"], n["test_acc_student_direct"], n["test_acc_student_mimic"]],
                color=["C7", "C0", "C1"])
    axes[0].set_ylim(0.5, 1)
    axes[0].set_ylabel("test accuracy")
    axes[0].set_title(f"{n['params_teacher']} vs {n['params_student']} parameters", fontsize=9)
    axes[1].plot(hist_direct, label="direct: cross-entropy per epoch (last student)")
    axes[1].set_xlabel("epoch (direct)")
    ax2 = axes[1].twiny()
    ax2.plot(hist_mimic, color="C1", alpha=0.6, label="mimic: T^2 KL per step")
    ax2.set_xlabel("step (mimic)")
    axes[1].set_yscale("log")
    axes[1].legend(fontsize=7, loc="upper right")
    ax2.legend(fontsize=7, loc="center right")
    return n, [fig]
