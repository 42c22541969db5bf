"""Model compression (textbook 12.1.4): fit a small model to a large model's function.

* ``mimic(student, teacher, x_sampler, ...)``: Bucilua et al.'s procedure as the book gives it: evaluate the
  big model f on an essentially unlimited stream of inputs drawn near the test distribution (corrupted
  training examples, ``corrupt_sampler``, or samples of a generative model) and regress the small model on
  f(x) (squared error on logits, or KL on temperature-softened outputs).
* ``distillation_loss``: Hinton et al.'s knowledge distillation (the book's "posterior over incorrect
  classes"): alpha * T^2 * KL(softmax(z_t/T) || softmax(z_s/T)) + (1 - alpha) * CE(z_s, y); the T^2 keeps
  the soft term's gradient scale independent of T.
* ``Distiller(student, teacher, temperature, alpha)``: a Module for the normal ``compile``/``fit`` path:
  ``d.compile(optimizer, loss=d.loss); d.fit(x, y)`` trains the student on the distillation loss.
"""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..autograd.tensor import Tensor, tensor
from ..backend import to_host
from ..nn.functional import cross_entropy, log_softmax, mse_loss
from ..nn.module import Module


def _check_T(who, T):
    if not T > 0:
        raise ValueError(f"{who}: temperature must be > 0, got {T!r}")


def soft_target_kl(student_logits: Tensor, teacher_logits: Tensor, temperature: float = 1.0) -> Tensor:
    """T^2 * KL(softmax(z_t/T) || softmax(z_s/T)), averaged over the batch (the soft-target term)."""
    _check_T("soft_target_kl", temperature)
    if tuple(student_logits.shape) != tuple(teacher_logits.shape):
        raise ValueError(f"soft_target_kl: student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape (N, C)")
    T = float(temperature)
    ls = log_softmax(student_logits / T, -1)
    lt = log_softmax(teacher_logits.detach() / T, -1)
    n = student_logits.shape[0] if student_logits.ndim > 1 else 1
    return (lt.exp() * (lt - ls)).sum() * (T * T / n)


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, targets=None, T: float = 4.0,
                      alpha: float = 0.9) -> Tensor:
    """Knowledge distillation (textbook 12.1.4; Hinton et al. 2015): alpha * T^2 * KL(p_t^T || p_s^T) +
    (1 - alpha) * CE(z_s, y). logits (N, C), targets (N,) class indices (None: the soft term only, alpha
    ignored). The teacher's logits are treated as constants."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must lie in [0, 1], got {alpha!r}")
    soft = soft_target_kl(student_logits, teacher_logits, T)
    if targets is None:
        return soft
    if alpha == 1.0:
        return soft
    hard = cross_entropy(student_logits, targets)
    return soft * alpha + hard * (1.0 - alpha) if alpha else hard


class Distiller(Module):
    """Train ``student`` to match ``teacher`` with ``distillation_loss``, through the ordinary fit loop.

    ``forward(x)`` returns the student's logits; in training mode it also runs the (frozen, no-grad) teacher
    on x and keeps its logits for ``loss(output, target)``. Use ``d.compile(optimizer, loss=d.loss)`` then
    ``d.fit(x, y)``. Only the student's parameters are trained and saved (the teacher is not a sub-module).
    Outside training (e.g. validation) ``loss`` is the student's plain cross-entropy."""

    def __init__(self, student: Module, teacher: Module, temperature: float = 4.0, alpha: float = 0.9):
        super().__init__()
        _check_T("Distiller", temperature)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"Distiller: alpha must lie in [0, 1], got {alpha!r}")
        self.student = student
        object.__setattr__(self, "teacher", teacher)  # not registered: its parameters are not trained or saved
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self._cache = None

    def forward(self, x):
        out = self.student(x)
        if self.training:
            was = self.teacher.training
            self.teacher.eval()
            with no_grad():
                t = self.teacher(x)
            self.teacher.train(was)
            self._cache = (out, t)
        return out

    def loss(self, output, target):
        cache = self._cache
        if cache is not None and cache[0] is output:
            return distillation_loss(output, cache[1], target, self.temperature, self.alpha)
        return cross_entropy(output, target)

    def to(self, *args, **kwargs):
        self.teacher.to(*args, **kwargs)
        return super().to(*args, **kwargs)


def corrupt_sampler(x, noise_std: float = 0.1, mask_prob: float = 0.0, clip=None, seed: int = 0, device=None):
    """A sampler ``draw(n) -> Tensor``: n training rows picked at random, plus Gaussian noise of ``noise_std``
    and masking noise (each input set to 0 with ``mask_prob``), optionally clipped to ``clip=(lo, hi)``
    (textbook 12.1.4: corrupt training examples to sample near the test distribution). The batch is made on
    ``device`` (default: the default device); the noise is drawn on the host (this is data preparation)."""
    base = to_host(x._data) if isinstance(x, Tensor) else (to_host(x) if hasattr(x, "shape") else np.asarray(x))
    if base.ndim < 2 or len(base) == 0:
        raise ValueError(f"corrupt_sampler: expected a non-empty (N, ...) array, got shape {base.shape}")
    rng = np.random.default_rng(seed)

    def draw(n: int) -> Tensor:
        xb = base[rng.integers(0, len(base), size=n)].astype(np.float32)
        if noise_std:
            xb = xb + rng.normal(scale=noise_std, size=xb.shape).astype(np.float32)
        if mask_prob:
            xb = xb * (rng.random(xb.shape) >= mask_prob)
        if clip is not None:
            xb = np.clip(xb, clip[0], clip[1])
        return tensor(xb.astype(base.dtype if base.dtype.kind == "f" else np.float32), device=device)

    return draw


def mimic(student: Module, teacher: Module, x_sampler, steps: int = 500, batch_size: int = 64, optimizer=None,
          lr: float = 1e-3, loss: str = "mse", temperature: float = 1.0):
    """Fit ``student`` to ``teacher``'s outputs on inputs drawn by ``x_sampler(batch_size)`` (textbook 12.1.4).

    loss 'mse': squared error between logits (regression on f(x)); 'kl': T^2 KL of temperature-softened
    outputs. Returns the list of per-step losses. ``optimizer`` defaults to Adam(lr) on the student."""
    if loss not in ("mse", "kl"):
        raise ValueError(f"mimic: loss must be 'mse' or 'kl', got {loss!r}")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"mimic: steps and batch_size must be >= 1, got {steps}, {batch_size}")
    if optimizer is None:
        from ..optim import Adam

        optimizer = Adam(student.parameters(), lr=lr)
    teacher.eval()
    student.train()
    hist = []
    for _ in range(int(steps)):
        xb = x_sampler(batch_size)
        with no_grad():
            target = teacher(xb)
        out = student(xb)
        ell = mse_loss(out, target) if loss == "mse" else soft_target_kl(out, target, temperature)
        optimizer.zero_grad()
        ell.backward()
        optimizer.step()
        hist.append(float(ell.item()))
    student.eval()
    return hist
