"""Learning-rate schedules (Textbook 8.3.1 and 8.1.3/8.5 discussion), with PyTorch's ``scheduler.step()`` semantics.

Building a scheduler records ``group["initial_lr"]`` and applies the lr of epoch 0; each ``step()`` advances
``last_epoch`` by one and writes the new lr into every parameter group (call it after ``optimizer.step()``).
PyTorch names: LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR,
CosineAnnealingLR, CosineAnnealingWarmRestarts, PolynomialLR, SequentialLR, ChainedScheduler, ReduceLROnPlateau.
Textbook forms: LinearDecayLR (8.3.1: eps_k = (1 - k/tau) eps_0 + (k/tau) eps_tau, constant after tau),
step annealing (StepAnnealingLR = StepLR(gamma=1/factor)), ExponentialDecayLR (alpha_0 e^{-k t}), InverseTimeLR
(alpha_0 tau / max(t, tau)), LinearWarmup (linear ramp from start_factor * lr to lr over warmup_steps).
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "PolynomialLR", "SequentialLR",
           "ChainedScheduler", "ReduceLROnPlateau", "StepAnnealingLR", "LinearDecayLR", "ExponentialDecayLR",
           "InverseTimeLR",
           "LinearWarmup"]


class LRScheduler:
    """Base class: subclasses define ``get_lr()`` (PyTorch's chainable form, from the groups' current lr) and,
    where one exists, ``_closed_form(base_lr, t)`` (used by ``step(epoch)``)."""

    _skip_state = ("optimizer",)

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming (last_epoch != -1)")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self.step()

    def get_lr(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_last_lr(self):
        """The lr of every group as last set by this scheduler."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance one epoch (or jump to `epoch`, using the closed form) and set every group's lr."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            if hasattr(self, "_closed_form"):
                values = [self._closed_form(b, epoch) for b in self.base_lrs]
            else:
                values = self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _lrs(self):
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (and lambdas, which cannot be saved)."""
        return {k: v for k, v in self.__dict__.items() if k not in self._skip_state}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        if "base_lrs" in state_dict:
            self.base_lrs = list(self.base_lrs)
        if "_last_lr" in state_dict:
            self._last_lr = list(self._last_lr)

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={getattr(self, '_last_lr', None)})"


_LRScheduler = LRScheduler


def _per_group(x, n, name):
    if isinstance(x, (list, tuple)):
        if len(x) != n:
            raise ValueError(f"{name}: expected {n} values (one per parameter group), got {len(x)}")
        return list(x)
    return [x] * n


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); lr_lambda may be a list with one function per group."""

    _skip_state = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _per_group(lr_lambda, len(optimizer.param_groups), "LambdaLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * f(self.last_epoch) for b, f in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(LRScheduler):
    """lr <- lr * lr_lambda(epoch) at every step after the first."""

    _skip_state = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _per_group(lr_lambda, len(optimizer.param_groups), "MultiplicativeLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch > 0:
            return [lr * f(self.last_epoch) for lr, f in zip(self._lrs(), self.lr_lambdas)]
        return self._lrs()


class StepLR(LRScheduler):
    """lr = base_lr * gamma^(epoch // step_size): step annealing, 'divide by 1/gamma every step_size epochs'."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form(self, b, t):
        return b * self.gamma ** (t // self.step_size)


class StepAnnealingLR(StepLR):
    """Step annealing (seeds 002, section 2.7): divide the lr by `factor` every `every` steps
    (= StepLR(step_size=every, gamma=1/factor))."""

    def __init__(self, optimizer, every, factor=10.0, last_epoch=-1):
        if factor <= 0:
            raise ValueError(f"StepAnnealingLR: factor must be > 0, got {factor}")
        self.factor = factor
        super().__init__(optimizer, step_size=every, gamma=1.0 / factor, last_epoch=last_epoch)


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma^(number of milestones <= epoch)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]

    def _closed_form(self, b, t):
        return b * self.gamma ** bisect_right(sorted(self.milestones.elements()), t)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): v for k, v in dict(self.milestones).items()})


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for epoch < total_iters, then base_lr."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 < factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in (0, 1], got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr / self.factor for lr in self._lrs()]

    def _closed_form(self, b, t):
        return b * (self.factor + (t >= self.total_iters) * (1 - self.factor))


class LinearLR(LRScheduler):
    """lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)
    (PyTorch's linear warm-up / decay)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], got "
                             f"{start_factor}, {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._lrs()]
        if self.last_epoch > self.total_iters:
            return self._lrs()
        s, e = self.start_factor, self.end_factor
        r = 1.0 + (e - s) / (self.total_iters * s + (self.last_epoch - 1) * (e - s))
        return [lr * r for lr in self._lrs()]

    def _closed_form(self, b, t):
        return b * (self.start_factor + (self.end_factor - self.start_factor) * min(self.total_iters, t)
                    / self.total_iters)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma^epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form(self, b, t):
        return b * self.gamma ** t


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2 (SGDR without restarts; PyTorch's
    recursive form, so it keeps oscillating after T_max as PyTorch does)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, m = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._lrs()
        if self._step_count == 1 and t > 0:
            return [m + (b - m) * (1 + math.cos(t * math.pi / T)) / 2 for b in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (b - m) * (1 - math.cos(math.pi / T)) / 2 for lr, b in zip(self._lrs(), self.base_lrs)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - m) + m
                for lr in self._lrs()]

    def _closed_form(self, b, t):
        return self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted after T_0, then T_0 * T_mult, ... epochs (SGDR); step(epoch) may be fractional."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or int(T_0) != T_0 or T_mult < 1 or int(T_mult) != T_mult:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer and T_mult an integer "
                             f">= 1, got {T_0}, {T_mult}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for b in self.base_lrs]

    def step(self, epoch=None):
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be >= 0, got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        self._step_count += 1
        for g, lr in zip(self.optimizer.param_groups, self.get_lr()):
            g["lr"] = lr
        self._last_lr = self._lrs()


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - min(epoch, total_iters) / total_iters)^power."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T = self.last_epoch, self.total_iters
        if t == 0 or t > T:
            return self._lrs()
        f = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * f for lr in self._lrs()]

    def _closed_form(self, b, t):
        return b * (1.0 - min(self.total_iters, t) / self.total_iters) ** self.power


class _FactorLR(LRScheduler):
    """lr = base_lr * self.factor(epoch) (closed form, not chainable)."""

    def get_lr(self):
        return [self._closed_form(b, self.last_epoch) for b in self.base_lrs]

    def _closed_form(self, b, t):
        return b * self.factor(t)


class LinearDecayLR(_FactorLR):
    """Textbook 8.3.1: eps_k = (1 - a) eps_0 + a eps_tau with a = k / tau, then eps_tau for k >= tau.
    Give eps_tau as ``final_lr`` (same for every group) or as ``final_factor`` * eps_0 (default 0.01, the
    textbook's 'about 1% of eps_0')."""

    def __init__(self, optimizer, tau, final_factor=0.01, final_lr=None, last_epoch=-1):
        if tau <= 0:
            raise ValueError(f"LinearDecayLR: tau must be > 0, got {tau}")
        self.tau, self.final_factor, self.final_lr = tau, final_factor, final_lr
        super().__init__(optimizer, last_epoch)

    def _closed_form(self, b, t):
        a = min(t / self.tau, 1.0)
        end = self.final_lr if self.final_lr is not None else b * self.final_factor
        return (1.0 - a) * b + a * end


class ExponentialDecayLR(_FactorLR):
    """alpha_t = alpha_0 e^{-k t} (= ExponentialLR with gamma = e^{-k})."""

    def __init__(self, optimizer, k, last_epoch=-1):
        self.k = k
        super().__init__(optimizer, last_epoch)

    def factor(self, t):
        return math.exp(-self.k * t)


class InverseTimeLR(_FactorLR):
    """1/t decay: alpha_t = alpha_0 tau / max(t, tau) (constant for the first tau steps)."""

    def __init__(self, optimizer, tau, last_epoch=-1):
        if tau <= 0:
            raise ValueError(f"InverseTimeLR: tau must be > 0, got {tau}")
        self.tau = tau
        super().__init__(optimizer, last_epoch)

    def factor(self, t):
        return self.tau / max(t, self.tau)


class LinearWarmup(_FactorLR):
    """Linear warm-up: lr = base_lr * (start_factor + (1 - start_factor) * min(t, warmup_steps) / warmup_steps)."""

    def __init__(self, optimizer, warmup_steps, start_factor=0.0, last_epoch=-1):
        if warmup_steps <= 0:
            raise ValueError(f"LinearWarmup: warmup_steps must be > 0, got {warmup_steps}")
        self.warmup_steps, self.start_factor = warmup_steps, start_factor
        super().__init__(optimizer, last_epoch)

    def factor(self, t):
        return self.start_factor + (1.0 - self.start_factor) * min(t, self.warmup_steps) / self.warmup_steps


class SequentialLR(LRScheduler):
    """Run schedulers one after another, switching at the given milestones (e.g. LinearWarmup then cosine)."""

    _skip_state = ("optimizer", "_schedulers")

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        schedulers = list(schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones for {len(schedulers)} "
                             f"schedulers, got {len(milestones)}")
        for s in schedulers:
            if s.optimizer is not optimizer:
                raise ValueError("SequentialLR: every scheduler must belong to the same optimizer")
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        for g in optimizer.param_groups:
            g["lr"] = g["initial_lr"]
        for s in reversed(schedulers):  # undo the initial steps the constructors made
            s.last_epoch -= 1
        schedulers[0]._initial_step()
        self._last_lr = schedulers[0].get_last_lr()

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        s = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            s.step(0)
        else:
            s.step()
        self._last_lr = s.get_last_lr()

    def state_dict(self):
        d = super().state_dict()
        d["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return d

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        subs = state_dict.pop("_schedulers")
        super().load_state_dict(state_dict)
        for s, sd_ in zip(self._schedulers, subs):
            s.load_state_dict(sd_)


class ChainedScheduler(LRScheduler):
    """Step several (chainable) schedulers together; their multiplicative effects compose."""

    _skip_state = ("optimizer", "_schedulers")

    def __init__(self, schedulers, optimizer=None):
        self._schedulers = list(schedulers)
        self.optimizer = optimizer or self._schedulers[0].optimizer
        self._last_lr = self._lrs()

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = self._lrs()

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict


class ReduceLROnPlateau:
    """Multiply lr by `factor` when `step(metric)` has not improved for `patience` epochs (PyTorch semantics:
    mode 'min'/'max', threshold_mode 'rel'/'abs', cooldown, min_lr per group, eps minimal change)."""

    needs_metrics = True

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min'/'max' and threshold_mode 'rel'/'abs', got "
                             f"{mode!r}, {threshold_mode!r}")
        self.optimizer = optimizer
        self.min_lrs = _per_group(min_lr, len(optimizer.param_groups), "ReduceLROnPlateau min_lr")
        self.factor, self.patience, self.threshold, self.threshold_mode = factor, patience, threshold, threshold_mode
        self.mode, self.cooldown, self.eps = mode, cooldown, eps
        self.cooldown_counter = 0
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def is_better(self, a, best):
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics):
        """Record this epoch's metric (e.g. validation loss) and reduce the lr after `patience` bad epochs."""
        current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, lo in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(g["lr"])
                new = max(old * self.factor, lo)
                if old - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self):
        return self._last_lr

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
