"""`Monitor`: a training callback that instruments a network (textbook 11.5, "monitor histograms of activations
and gradients"): per activation layer the activation histogram, the fraction of dead units (ReLU units never
active over the monitored batches of an epoch) and the mean |pre-activation| (saturation of tanh/sigmoid); per
parameter the gradient histogram, the gradient norm and the update-to-parameter ratio ||dtheta|| / ||theta|| (a
warning when far from ~1e-3; the book says about 1% of the magnitude, not 50% or 0.001%); the global gradient
norm and the curvature along the gradient g'Hg / g'g (Hessian-vector product) on a fixed batch. Written to
TensorBoard (when tensorboardX is installed and ``log_dir`` given) and to a PNG dashboard.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..backend import to_host
from ..train.callbacks.base import Callback

__all__ = ["Monitor", "activation_layers"]

RELU_LIKE = ("ReLU", "ReLU6")


def activation_layers(model):
    """(name, module) of the activation layers (shendu.nn activation modules) of ``model``, in order."""
    out = []
    for name, m in model.named_modules():
        if name and type(m).__module__.endswith("nn.layers.activation"):
            out.append((name, m))
    return out


def _host(t):
    return np.asarray(to_host(t._data if hasattr(t, "_data") else t), dtype=np.float64)


def _sample(a, n, rng):
    a = a.reshape(-1)
    return a if a.size <= n else a[rng.integers(0, a.size, n)]


class Monitor(Callback):
    """Record activation/gradient statistics every ``every`` training steps (see the module docstring).

    records: one dict per epoch {'epoch', 'layers': {name: {'dead_fraction', 'mean_abs_preact', 'act_hist'}},
    'params': {name: {'grad_norm', 'update_ratio', 'grad_hist'}}, 'grad_norm', 'gHg', 'curvature'}.
    curvature_data: (x, y) batch for g'Hg (skipped when None). dashboard: PNG path written when training ends
    (or call ``plot(path)``).
    ratio_band: update ratios outside it give a RuntimeWarning (default 1e-5 .. 1e-1 around ~1e-3)."""

    def __init__(self, every=10, log_dir=None, dashboard=None, curvature_data=None, bins=30, ratio_band=(1e-5, 1e-1),
                 warn=True, sample=20000, seed=0):
        if not (isinstance(every, int) and every >= 1):
            raise ValueError(f"Monitor: every must be an int >= 1, got {every!r}")
        self.every, self.log_dir, self.dashboard = every, log_dir, dashboard
        self.curvature_data, self.bins, self.ratio_band, self.warn = curvature_data, bins, ratio_band, warn
        self.sample = sample
        self.rng = np.random.default_rng(seed)
        self.records = []
        self.warnings = []
        self.writer = None
        self._handles = []

    # --- hooks -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        model = self.trainer.model
        self.layers = activation_layers(model)
        self.params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        for name, m in self.layers:
            self._handles.append(m.register_forward_hook(self._hook(name, type(m).__name__)))
        self._on = False
        self._reset()
        if self.log_dir is not None:
            try:
                from tensorboardX import SummaryWriter
            except ImportError:
                warnings.warn("Monitor: tensorboardX is not installed; writing only the PNG dashboard "
                              "(pip install tensorboardX)", RuntimeWarning, stacklevel=2)
            else:
                self.writer = SummaryWriter(logdir=str(self.log_dir))

    def _reset(self):
        self.acc = {n: {"active": None, "abs_pre": 0.0, "count": 0, "acts": []} for n, _ in self.layers}
        self.pacc = {n: {"grad_norm": [], "ratio": [], "grads": []} for n, _ in self.params}
        self.gnorms = []

    def _hook(self, name, kind):
        def hook(module, inputs, output):
            if not self._on:
                return None
            pre = _host(inputs[0])
            out = _host(output)
            a = self.acc[name]
            a["abs_pre"] += float(np.abs(pre).sum())
            a["count"] += pre.size
            a["acts"].append(_sample(out, self.sample // 4, self.rng))
            if kind in RELU_LIKE:  # a unit: a feature (last axis of (N, F)) or a channel (axis 1 of (N, C, ...))
                act = out > 0
                unit = act.any(axis=tuple(i for i in range(act.ndim) if i != (1 if act.ndim > 2 else act.ndim - 1)))
                a["active"] = unit if a["active"] is None else (a["active"] | unit)
            return None

        return hook

    def on_train_batch_begin(self, step, logs=None):
        self._on = step % self.every == 0
        if self._on:
            self._before = [_host(p).copy() for _, p in self.params]

    def on_train_batch_end(self, step, logs=None):
        if not self._on:
            return
        self._on = False
        total = 0.0
        for (name, p), old in zip(self.params, self._before):
            rec = self.pacc[name]
            if p.grad is not None:
                g = _host(p.grad)
                gn = float(np.sqrt((g * g).sum()))
                total += gn * gn
                rec["grad_norm"].append(gn)
                rec["grads"].append(_sample(g, self.sample // 4, self.rng))
            new = _host(p)
            pn = float(np.sqrt((old * old).sum()))
            if pn > 0:
                rec["ratio"].append(float(np.sqrt(((new - old) ** 2).sum())) / pn)
        self.gnorms.append(math.sqrt(total))
        self._before = None

    def on_epoch_end(self, epoch, logs=None):
        rec = {"epoch": epoch, "layers": {}, "params": {}}
        for name, _ in self.layers:
            a = self.acc[name]
            if not a["count"]:
                continue
            acts = np.concatenate(a["acts"])
            r = {"mean_abs_preact": a["abs_pre"] / a["count"], "act_hist": np.histogram(acts, self.bins),
                 "act_moments": (float(acts.sum()), float((acts * acts).sum()))}
            r["dead_fraction"] = None if a["active"] is None else float(1.0 - a["active"].mean())
            rec["layers"][name] = r
        for name, _ in self.params:
            a = self.pacc[name]
            g = np.concatenate(a["grads"]) if a["grads"] else None
            r = {"grad_norm": float(np.mean(a["grad_norm"])) if a["grad_norm"] else None,
                 "update_ratio": float(np.median(a["ratio"])) if a["ratio"] else None,
                 "grad_hist": None if g is None else np.histogram(g, self.bins),
                 "grad_moments": None if g is None else (float(g.sum()), float((g * g).sum()))}
            rec["params"][name] = r
            ratio = r["update_ratio"]
            if self.warn and ratio is not None and not (self.ratio_band[0] <= ratio <= self.ratio_band[1]):
                msg = (f"Monitor: epoch {epoch + 1}: update/parameter ratio of {name} is {ratio:.2e}, far from ~1e-3 "
                       f"(band {self.ratio_band[0]:g}..{self.ratio_band[1]:g}): the learning rate may be too "
                       f"{'high' if ratio > self.ratio_band[1] else 'low'} for it")
                self.warnings.append(msg)
                warnings.warn(msg, RuntimeWarning, stacklevel=2)
        rec["grad_norm"] = float(np.mean(self.gnorms)) if self.gnorms else None
        rec["gHg"] = rec["curvature"] = None
        if self.curvature_data is not None:
            rec["gHg"], rec["curvature"] = self.curvature()
        self.records.append(rec)
        self._write_tb(rec)
        self._reset()

    def on_train_end(self, logs=None):
        if self.dashboard is not None and self.records:
            self.plot(self.dashboard)
        for h in self._handles:
            h.remove()
        self._handles = []
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
            self.writer = None

    # --- curvature ---------------------------------------------------------------------------
    def curvature(self):
        """(g'Hg, g'Hg / g'g) of the training loss on ``curvature_data`` at the current parameters (eval mode):
        the second-order term of the loss change along the gradient step (textbook 4.3.1, 8.2.1)."""
        from ..autograd.engine import grad
        from ..autograd.functional import hvp
        from ..train.loop import _as_tensors, _to_device, model_device

        model, loss_fn = self.trainer.model, self.trainer.loss_fn
        x, y = _to_device(_as_tensors(tuple(self.curvature_data)), model_device(model))
        params = [p for _, p in self.params]
        was = getattr(model, "training", False)
        if hasattr(model, "eval"):
            model.eval()
        try:
            def f():
                return loss_fn(model(x), y)

            gs = grad(f(), params, allow_unused=True)
            vs = [g.detach() if g is not None else p.detach() * 0 for g, p in zip(gs, params)]
            hv = hvp(f, params, vs)
            gHg = float(sum(float(_host(v * h).sum()) for v, h in zip(vs, hv)))
            gg = float(sum(float(_host(v * v).sum()) for v in vs))
        finally:
            if was and hasattr(model, "train"):
                model.train()
        return gHg, (gHg / gg if gg > 0 else 0.0)

    # --- outputs -----------------------------------------------------------------------------
    def _write_tb(self, rec):
        w = self.writer
        if w is None:
            return
        e = rec["epoch"] + 1
        for name, r in rec["layers"].items():
            w.add_scalar(f"preact_abs/{name}", r["mean_abs_preact"], e)
            if r["dead_fraction"] is not None:
                w.add_scalar(f"dead_fraction/{name}", r["dead_fraction"], e)
            self._tb_hist(f"activation/{name}", r["act_hist"], r["act_moments"], e)
        for name, r in rec["params"].items():
            if r["grad_hist"] is not None:
                self._tb_hist(f"gradient/{name}", r["grad_hist"], r["grad_moments"], e)
            if r["grad_norm"] is not None:
                w.add_scalar(f"grad_norm/{name}", r["grad_norm"], e)
            if r["update_ratio"] is not None:
                w.add_scalar(f"update_ratio/{name}", r["update_ratio"], e)
        for k in ("grad_norm", "gHg", "curvature"):
            if rec[k] is not None:
                w.add_scalar(f"global/{k}", rec[k], e)

    def _tb_hist(self, tag, hist, moments, step):
        counts, edges = hist
        self.writer.add_histogram_raw(tag, float(edges[0]), float(edges[-1]), int(counts.sum()), moments[0],
                                      moments[1], edges[1:].tolist(), counts.tolist(), step)

    def summary(self):
        """The last epoch's figures as text lines (one per layer and parameter)."""
        if not self.records:
            return []
        r = self.records[-1]
        lines = [f"epoch {r['epoch'] + 1}: grad norm {r['grad_norm']}, g'Hg {r['gHg']}, curvature {r['curvature']}"]
        for n, v in r["layers"].items():
            dead = "-" if v["dead_fraction"] is None else f"{v['dead_fraction']:.3f}"
            lines.append(f"  layer {n}: dead {dead}, mean |preact| {v['mean_abs_preact']:.4g}")
        for n, v in r["params"].items():
            lines.append(f"  param {n}: grad norm {v['grad_norm']}, update ratio {v['update_ratio']}")
        return lines

    def plot(self, path):
        """PNG dashboard: activation and gradient histograms of the last epoch, update ratios, dead fractions and
        mean |pre-activation| per epoch, gradient norm and curvature per epoch."""
        from ._plot import pyplot

        plt = pyplot()
        fig, ax = plt.subplots(2, 3, figsize=(14, 7))
        last = self.records[-1]
        for n, r in last["layers"].items():
            c, e = r["act_hist"]
            ax[0, 0].plot((e[:-1] + e[1:]) / 2, c, label=n)
        ax[0, 0].set_title("activations (last epoch)")
        for n, r in last["params"].items():
            if r["grad_hist"] is not None:
                c, e = r["grad_hist"]
                ax[0, 1].plot((e[:-1] + e[1:]) / 2, c, label=n)
        ax[0, 1].set_title("gradients (last epoch)")
        ep = [r["epoch"] + 1 for r in self.records]
        for n, _ in self.params:
            ys = [r["params"][n]["update_ratio"] for r in self.records]
            if any(v for v in ys):
                ax[0, 2].plot(ep, [v if v else np.nan for v in ys], "o-", label=n)
        ax[0, 2].axhspan(*self.ratio_band, color="C2", alpha=0.1)
        ax[0, 2].axhline(1e-3, color="C2", ls="--")
        ax[0, 2].set_yscale("log")
        ax[0, 2].set_title("update / parameter ratio")
        for n, _ in self.layers:
            ys = [r["layers"].get(n, {}).get("dead_fraction") for r in self.records]
            if any(v is not None for v in ys):
                ax[1, 0].plot(ep, [np.nan if v is None else v for v in ys], "o-", label=n)
            ax[1, 1].plot(ep, [r["layers"].get(n, {}).get("mean_abs_preact", np.nan) for r in self.records], "o-",
                          label=n)
        ax[1, 0].set_title("dead ReLU fraction")
        ax[1, 1].set_title("mean |pre-activation|")
        ax[1, 2].plot(ep, [r["grad_norm"] or np.nan for r in self.records], "o-", label="grad norm")
        if any(r["curvature"] is not None for r in self.records):
            ax[1, 2].plot(ep, [np.nan if r["curvature"] is None else r["curvature"] for r in self.records], "s-",
                          label="g'Hg / g'g")
        ax[1, 2].set_title("gradient norm and curvature")
        for a in ax.flat:
            if a.get_legend_handles_labels()[0]:
                a.legend(fontsize=6)
        for a in ax[1]:
            a.set_xlabel("epoch")
        fig.tight_layout()
        fig.savefig(path, dpi=70)
        plt.close(fig)
        return path
