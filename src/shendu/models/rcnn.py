"""Region-based detection pieces of the R-CNN family (Girshick et al. 2014, Fast R-CNN 2015; textbook 9.11
names them): RoI max pooling of a shared feature map, the R-CNN box-regression parametrisation, greedy
non-maximum suppression and a Fast R-CNN head (class scores incl. background 0, and box deltas).
Region proposals are given (selective search / a region-proposal network are not built).
Boxes are (x1, y1, x2, y2) in input-image pixels."""
from __future__ import annotations

import numpy as np

from .. import nn, ops
from ..nn.layers.cnn_extras import adaptive_max_pool2d


def roi_pool(features, rois, output_size, spatial_scale=1.0):
    """RoI max pooling (Fast R-CNN): for each roi (batch_index, x1, y1, x2, y2) the feature cells
    [round(y1 s), round(y2 s)] x [round(x1 s), round(x2 s)] (inclusive, s = spatial_scale, clipped to the map)
    max-pooled to ``output_size``. features (N, C, H, W), rois (K, 5) array -> (K, C, oh, ow)."""
    rois = np.asarray(rois, dtype=np.float64).reshape(-1, 5)
    H, W = features.shape[2], features.shape[3]
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    out = []
    for b, x1, y1, x2, y2 in rois:
        c0 = min(max(int(round(x1 * spatial_scale)), 0), W - 1)
        r0 = min(max(int(round(y1 * spatial_scale)), 0), H - 1)
        c1 = min(max(int(round(x2 * spatial_scale)), c0), W - 1)
        r1 = min(max(int(round(y2 * spatial_scale)), r0), H - 1)
        crop = features[int(b):int(b) + 1, :, r0:r1 + 1, c0:c1 + 1]
        if crop.shape[2] < oh or crop.shape[3] < ow:    # a region smaller than the grid: repeat its cells
            iy = np.minimum(np.arange(max(oh, crop.shape[2])) * crop.shape[2] // max(oh, crop.shape[2]),
                            crop.shape[2] - 1)
            ix = np.minimum(np.arange(max(ow, crop.shape[3])) * crop.shape[3] // max(ow, crop.shape[3]),
                            crop.shape[3] - 1)
            crop = crop[:, :, iy][:, :, :, ix]
        out.append(adaptive_max_pool2d(crop, (oh, ow)))
    return ops.cat(out, dim=0)


def box_iou_xyxy(a, b):
    """IoU matrix (len(a), len(b)) of boxes (x1, y1, x2, y2)."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(boxes, scores, iou_threshold=0.5):
    """Greedy non-maximum suppression: indices of the kept boxes, by decreasing score; a box is dropped when
    its IoU with an already kept box exceeds ``iou_threshold``."""
    boxes, scores = np.asarray(boxes, dtype=np.float64).reshape(-1, 4), np.asarray(scores, dtype=np.float64)
    order, keep = list(np.argsort(-scores, kind="stable")), []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if order:
            ious = box_iou_xyxy(boxes[i], boxes[order])[0]
            order = [j for j, v in zip(order, ious) if v <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def encode_boxes(proposals, targets):
    """R-CNN regression targets: tx = (gx - px) / pw, ty = (gy - py) / ph, tw = log(gw / pw), th = log(gh / ph)
    with centres (x, y) and sizes (w, h). (K, 4) xyxy each -> (K, 4)."""
    p, g = np.asarray(proposals, np.float64).reshape(-1, 4), np.asarray(targets, np.float64).reshape(-1, 4)
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    return np.stack([((g[:, 0] + g[:, 2]) - (p[:, 0] + p[:, 2])) / 2 / pw,
                     ((g[:, 1] + g[:, 3]) - (p[:, 1] + p[:, 3])) / 2 / ph, np.log(gw / pw), np.log(gh / ph)], 1)


def decode_boxes(proposals, deltas):
    """Inverse of :func:`encode_boxes`: apply deltas (K, 4) to proposals (K, 4) -> boxes (K, 4) xyxy."""
    p, d = np.asarray(proposals, np.float64).reshape(-1, 4), np.asarray(deltas, np.float64).reshape(-1, 4)
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    cx, cy = (p[:, 0] + p[:, 2]) / 2 + d[:, 0] * pw, (p[:, 1] + p[:, 3]) / 2 + d[:, 1] * ph
    w, h = pw * np.exp(d[:, 2]), ph * np.exp(d[:, 3])
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


class FastRCNN(nn.Module):
    """Fast R-CNN: a conv backbone run once per image, RoI pooling of each proposal to ``pool`` x ``pool``,
    an FC layer, then class logits (num_classes + 1, background = 0) and 4 box deltas.
    forward(images (N, C, H, W), rois (K, 5)) -> (logits (K, num_classes + 1), deltas (K, 4))."""

    def __init__(self, num_classes, in_channels=3, widths=(16, 32), pool=3, hidden=64):
        super().__init__()
        layers, c = [], in_channels
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(c, w, 3, 1, 1), nn.ReLU()] + ([nn.MaxPool2d(2)] if i < len(widths) - 1 else [])
            c = w
        self.backbone = nn.Sequential(*layers)
        self.spatial_scale = 1.0 / 2 ** (len(widths) - 1)
        self.pool = pool
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c * pool * pool, hidden), nn.ReLU())
        self.cls = nn.Linear(hidden, num_classes + 1)
        self.bbox = nn.Linear(hidden, 4)

    def forward(self, images, rois):
        h = self.fc(roi_pool(self.backbone(images), rois, self.pool, self.spatial_scale))
        return self.cls(h), self.bbox(h)


def smooth_l1(x, beta=1.0):
    """Fast R-CNN's smooth L1: 0.5 x^2 / beta where |x| < beta, else |x| - 0.5 beta (elementwise, Tensor)."""
    ax = x.abs()
    return ops.where(ax < beta, 0.5 * x * x / beta, ax - 0.5 * beta)


