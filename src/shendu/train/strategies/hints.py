"""FitNets hints and deeply supervised auxiliary heads (textbook 8.7.4-8.7.5).

- FitNets (Romero et al. 2015): a deep thin student also regresses, through extra parameters r, its middle layer
  onto a teacher's middle layer: L_hint = 1/2 mean ||r(s(x)) - t(x)||^2 ("hints").
- Auxiliary heads / deeply supervised nets (GoogLeNet; Lee et al. 2014): copies of the output attached to hidden
  layers, trained on the same task with weights w_i: L = L(main) + sum_i w_i L(head_i); discarded after training.
"""
from __future__ import annotations

from ...nn.containers import ModuleList
from ...nn.functional.loss import cross_entropy
from ...nn.layers.conv import Conv2d
from ...nn.layers.linear import Linear
from ...nn.module import Module

__all__ = ["FeatureRecorder", "FitNetHint", "DeeplySupervised", "deeply_supervised_loss"]


class FeatureRecorder:
    """Keeps the latest output of ``layer`` (a forward hook).

    ``rec = FeatureRecorder(net.layer3); net(x); rec.output``."""

    def __init__(self, layer: Module):
        self.output = None
        self._handle = layer.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        self.output = output

    def remove(self):
        self._handle.remove()


class FitNetHint(Module):
    """Hint regressor r: student features (N, s) or (N, s, H, W) -> teacher features (N, t) / (N, t, H, W)
    (a Linear or 1x1 Conv2d); ``forward(student_feat, teacher_feat)`` = 1/2 mean ||r(s) - t||^2 (teacher detached)."""

    def __init__(self, student_features: int, teacher_features: int, conv: bool = False, dtype=None):
        super().__init__()
        self.regressor = (Conv2d(student_features, teacher_features, 1, dtype=dtype) if conv
                          else Linear(student_features, teacher_features, dtype=dtype))

    def forward(self, student_feat, teacher_feat):
        r = self.regressor(student_feat)
        if tuple(r.shape) != tuple(teacher_feat.shape):
            raise ValueError(f"FitNetHint: regressed student features {tuple(r.shape)} do not match the teacher's "
                             f"{tuple(teacher_feat.shape)}")
        return 0.5 * ((r - teacher_feat.detach()) ** 2).mean()


def deeply_supervised_loss(outputs, target, weights, loss_fn=cross_entropy):
    """sum_i weights[i] * loss_fn(outputs[i], target) over the main output and the auxiliary heads' outputs."""
    if len(outputs) != len(weights):
        raise ValueError(f"deeply_supervised_loss: {len(outputs)} outputs but {len(weights)} weights")
    total = None
    for o, w in zip(outputs, weights):
        if w:
            term = w * loss_fn(o, target)
            total = term if total is None else total + term
    if total is None:
        raise ValueError("deeply_supervised_loss: every weight is zero")
    return total


class DeeplySupervised(Module):
    """A network of ``stages`` (applied in order) with auxiliary ``heads`` {stage index: head} on hidden stages and
    the last stage as the main output. Training mode returns [main, *aux outputs]; eval mode returns main only
    (the heads are discarded at test time). ``loss(x, y)`` = L(main) + sum_i aux_weights[i] L(head_i)."""

    def __init__(self, stages, heads: dict, aux_weights=0.3):
        super().__init__()
        self.stages = ModuleList(list(stages))
        keys = sorted(int(k) for k in heads)
        if any(not 0 <= k < len(self.stages) - 1 for k in keys):
            raise ValueError(
                f"DeeplySupervised: head positions {keys} must index hidden stages 0..{len(self.stages) - 2}"
            )
        self.head_at = keys
        self.heads = ModuleList([heads[k] for k in keys])
        w = aux_weights if isinstance(aux_weights, (list, tuple)) else [aux_weights] * len(keys)
        if len(w) != len(keys):
            raise ValueError(f"DeeplySupervised: {len(keys)} heads but {len(w)} aux_weights")
        self.aux_weights = [float(v) for v in w]

    def forward(self, x):
        aux = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if self.training and i in self.head_at:
                aux.append(self.heads[self.head_at.index(i)](x))
        return [x] + aux if self.training else x

    def loss(self, x, target, loss_fn=cross_entropy):
        outs = self(x)
        if not self.training:
            return loss_fn(outs, target)
        return deeply_supervised_loss(outs, target, [1.0] + self.aux_weights, loss_fn)
