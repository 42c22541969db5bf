"""A YOLO-style detector head and loss (Redmon et al. 2016; textbook 9.11 names R-CNN / YOLO), one box per
grid cell (YOLOv1 with B = 1). The image is split into an S x S grid; the cell containing an object's centre
predicts it: (x, y) the centre offset inside the cell in [0, 1], (w, h) the size relative to the image,
a confidence (objectness) and class scores. Loss as in the paper, all squared errors:
    L = l_coord sum_obj [(x - x^)^2 + (y - y^)^2 + (sqrt w - sqrt w^)^2 + (sqrt h - sqrt h^)^2]
      + sum_obj (C - 1)^2 + l_noobj sum_noobj C^2 + sum_obj sum_c (p_c - p^_c)^2,  l_coord 5, l_noobj 0.5,
with x, y, w, h, C = sigmoid of the raw outputs and p = softmax of the class outputs."""
from __future__ import annotations

import numpy as np

from .. import nn, ops


class YOLOHead(nn.Module):
    """1x1 convolution from a feature map (N, C_in, S, S) to (N, S, S, 5 + num_classes) raw outputs
    (x, y, w, h, confidence, class logits)."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.conv = nn.Conv2d(in_channels, 5 + num_classes, 1)

    def forward(self, feats):
        return self.conv(feats).permute(0, 2, 3, 1)


class TinyYOLO(nn.Module):
    """conv-pool blocks down to an S x S grid (input size / 2^len(widths)), then :class:`YOLOHead`.
    (N, C, H, W) -> (N, S, S, 5 + num_classes)."""

    def __init__(self, num_classes, in_channels=3, widths=(16, 32)):
        super().__init__()
        layers, c = [], in_channels
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.head = YOLOHead(c, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


def encode_targets(boxes, labels, grid, num_classes):
    """Targets (N, S, S, 5 + K) float32 from per-image lists of boxes (cx, cy, w, h) in [0, 1] image units and
    class ids: the cell holding the centre gets (x offset in cell, y offset, w, h, 1, one-hot class)."""
    n = len(boxes)
    t = np.zeros((n, grid, grid, 5 + num_classes), np.float32)
    for i, (bs, ls) in enumerate(zip(boxes, labels)):
        for (cx, cy, w, h), c in zip(bs, ls):
            gx, gy = min(int(cx * grid), grid - 1), min(int(cy * grid), grid - 1)
            t[i, gy, gx, :5] = (cx * grid - gx, cy * grid - gy, w, h, 1.0)
            t[i, gy, gx, 5 + int(c)] = 1.0
    return t


def yolo_loss(raw, target, lambda_coord=5.0, lambda_noobj=0.5):
    """The YOLOv1 sum-squared loss above, averaged over the batch. raw, target: (N, S, S, 5 + K)."""
    if tuple(raw.shape) != tuple(target.shape):
        raise ValueError(f"yolo_loss: raw {tuple(raw.shape)} and target {tuple(target.shape)} differ")
    obj = target[..., 4]
    box = raw[..., :5].sigmoid()
    xy = ((box[..., 0] - target[..., 0]) ** 2 + (box[..., 1] - target[..., 1]) ** 2)
    wh = ((box[..., 2].sqrt() - target[..., 2].sqrt()) ** 2 + (box[..., 3].sqrt() - target[..., 3].sqrt()) ** 2)
    conf = box[..., 4]
    cls = ((ops.softmax(raw[..., 5:], dim=-1) - target[..., 5:]) ** 2).sum(-1)
    per_cell = obj * (lambda_coord * (xy + wh) + (conf - 1.0) ** 2 + cls) + (1.0 - obj) * lambda_noobj * conf ** 2
    return per_cell.sum() / raw.shape[0]


def decode(raw, threshold=0.5):
    """Boxes from raw outputs (a Tensor or array (N, S, S, 5 + K)): per image a list of
    (cx, cy, w, h, confidence, class) in image units for the cells with confidence > threshold (NumPy)."""
    a = np.asarray(raw.cpu().numpy() if hasattr(raw, "cpu") else raw, dtype=np.float64)
    s = a.shape[1]
    sig = 1.0 / (1.0 + np.exp(-a[..., :5]))
    out = []
    for i in range(a.shape[0]):
        found = []
        for gy, gx in zip(*np.nonzero(sig[i, ..., 4] > threshold)):
            x, y, w, h, c = sig[i, gy, gx]
            found.append(((gx + x) / s, (gy + y) / s, w, h, c, int(np.argmax(a[i, gy, gx, 5:]))))
        out.append(sorted(found, key=lambda b: -b[4]))
    return out


def box_iou(a, b):
    """Intersection over union of two boxes (cx, cy, w, h)."""
    ax0, ay0, ax1, ay1 = a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2
    bx0, by0, bx1, by1 = b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2
    iw, ih = max(0.0, min(ax1, bx1) - max(ax0, bx0)), max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
