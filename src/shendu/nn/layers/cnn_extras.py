"""Chapter-9 extras (textbook 9.3-9.4, notes optimization_and_cnn.md Part B): convolution as a matrix
(Toeplitz / doubly block circulant), distance-weighted average pooling, cross-channel pooling over separately
parametrised filters (learned invariance), adaptive max pooling to a fixed grid, a learned pooling structure
and a convolution with untied (per-location) biases. All compose existing differentiable ops."""
from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...autograd.tensor import Tensor, _wrap
from ...backend import device_of, get_default_dtype, to_device, to_dtype
from .. import init as _init
from ..functional import conv as Fc
from ..functional._checks import check_tensor
from ..module import Module
from ..parameter import Parameter
from .conv import Conv2d
from .maxout import maxout


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _const(arr, like):
    """Host constant ``arr`` as a tensor on the device and in the dtype of tensor ``like``."""
    return _wrap(to_device(np.asarray(arr, dtype=like.dtype), device_of(like._data)))


def conv_matrix(kernel, input_size, circular=False, flip_kernel=False):
    """The matrix T with T @ vec(x) = vec(xcorr(x, K)) (textbook 9.3-9.4: convolution as multiplication by a
    doubly block Toeplitz matrix; ``circular=True``: the doubly block circulant matrix of the wrap-around
    convolution y_ij = sum K_mn x_(i-m, j-n) mod (H, W) with ``flip_kernel=True``, output the input's size).
    ``flip_kernel=True`` gives the true convolution (eq. 9.4), else the cross-correlation (eq. 9.6).

    kernel: Tensor (kh, kw) or (kw,) for 1-D; input_size: (H, W) or (L,). Returns a Tensor
    (H_out*W_out, H*W), differentiable in the kernel (T = S @ vec(K) for a constant 0/1 selection S)."""
    if not isinstance(kernel, Tensor):
        raise TypeError(f"conv_matrix: kernel must be a Tensor, got {type(kernel).__name__}")
    one_d = kernel.ndim == 1
    if one_d:
        kernel = kernel.reshape(1, -1)
        input_size = (1,) + tuple(np.atleast_1d(input_size))
    if kernel.ndim != 2 or len(input_size) != 2:
        raise ValueError(f"conv_matrix: kernel must be 1-D or 2-D and input_size of the same rank, got kernel "
                         f"{tuple(kernel.shape)} and input_size {input_size}")
    kh, kw = kernel.shape
    h, w = (int(v) for v in input_size)
    if not circular and (kh > h or kw > w):
        raise ValueError(f"conv_matrix: kernel {kh}x{kw} is larger than the input {h}x{w}")
    ho, wo = (h, w) if circular else (h - kh + 1, w - kw + 1)
    sel = np.zeros((ho * wo, h * w, kh * kw), dtype=kernel.dtype)
    for i in range(ho):
        for j in range(wo):
            for m in range(kh):
                for n in range(kw):
                    if circular:   # y_ij = sum_mn K_mn x_(i-+m mod H, j-+n mod W)
                        r, c = ((i - m) % h, (j - n) % w) if flip_kernel else ((i + m) % h, (j + n) % w)
                        km = m * kw + n
                    else:          # valid: y_ij = sum_mn K_mn x_(i+m, j+n), K flipped for the true convolution
                        r, c = i + m, j + n
                        km = (kh - 1 - m) * kw + (kw - 1 - n) if flip_kernel else m * kw + n
                    sel[i * wo + j, r * w + c, km] += 1
    s = _const(sel.reshape(-1, kh * kw), kernel)
    return (s @ kernel.reshape(-1)).reshape(ho * wo, h * w)


def _gaussian_window(k, sigma):
    kh, kw = k
    yy, xx = np.meshgrid(np.arange(kh) - (kh - 1) / 2, np.arange(kw) - (kw - 1) / 2, indexing="ij")
    g = np.exp(-(yy ** 2 + xx ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


def distance_weighted_avg_pool2d(x, kernel_size, stride=None, sigma=1.0, padding=0):
    """Average pooling weighted by the distance from the window's centre (textbook 9.3 pooling functions):
    y = sum_p w_p x_p with w_p = exp(-d_p^2 / 2 sigma^2) / sum exp(...), d_p the distance of p to the centre
    (the text leaves the weighting open; Gaussian here). (N, C, H, W) -> (N, C, H_out, W_out)."""
    x = check_tensor("distance_weighted_avg_pool2d", x, "input")
    if x.ndim != 4:
        raise ValueError(f"distance_weighted_avg_pool2d: expected (N, C, H, W), got {tuple(x.shape)}")
    if sigma <= 0:
        raise ValueError(f"distance_weighted_avg_pool2d: sigma must be > 0, got {sigma}")
    k = _pair(kernel_size)
    c = x.shape[1]
    win = np.broadcast_to(_gaussian_window(k, sigma), (c, 1) + k)
    return Fc.conv2d(x, _const(win, x), None, _pair(stride) if stride is not None else k, padding, 1, c)


class DistanceWeightedAvgPool2d(Module):
    """Layer form of :func:`distance_weighted_avg_pool2d` (Gaussian weights, sigma in pixels)."""

    def __init__(self, kernel_size, stride=None, sigma=1.0, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.sigma, self.padding = kernel_size, stride, sigma, padding

    def forward(self, x):
        return distance_weighted_avg_pool2d(x, self.kernel_size, self.stride, self.sigma, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, sigma={self.sigma}"


class CrossChannelPool2d(Module):
    """Pooling over the outputs of separately parametrised convolutions (textbook 9.3 learned invariances,
    Fig 9.9): Conv2d(in, out * pieces) then the max over each group of ``pieces`` consecutive channels (maxout
    across channels). With the pieces = rotated copies of one filter, the unit is rotation invariant.
    (N, C_in, H, W) -> (N, out_channels, H_out, W_out)."""

    def __init__(self, in_channels, out_channels, kernel_size, pieces=4, stride=1, padding=0, bias=True):
        super().__init__()
        if pieces < 1:
            raise ValueError(f"CrossChannelPool2d: pieces must be >= 1, got {pieces}")
        self.out_channels, self.pieces = out_channels, pieces
        self.conv = Conv2d(in_channels, out_channels * pieces, kernel_size, stride, padding, bias=bias)

    def forward(self, x):
        return maxout(self.conv(x), self.pieces, dim=1)

    def extra_repr(self):
        return f"out_channels={self.out_channels}, pieces={self.pieces}"


def _bounds(n_in, n_out):
    return [(math.floor(i * n_in / n_out), math.ceil((i + 1) * n_in / n_out)) for i in range(n_out)]


def adaptive_max_pool2d(x, output_size):
    """Max pooling to a fixed grid whatever the input size (textbook 9.3 variable-size inputs: e.g. 2x2 =
    one statistic per quadrant). Regions as PyTorch: rows [floor(i H / oh), ceil((i+1) H / oh)).
    (N, C, H, W) -> (N, C, oh, ow)."""
    x = check_tensor("adaptive_max_pool2d", x, "input")
    if x.ndim != 4:
        raise ValueError(f"adaptive_max_pool2d: expected (N, C, H, W), got {tuple(x.shape)}")
    oh, ow = _pair(output_size)
    h, w = x.shape[2], x.shape[3]
    if oh > h or ow > w:
        raise ValueError(f"adaptive_max_pool2d: output {oh}x{ow} is larger than the input {h}x{w}")
    rows = []
    for r0, r1 in _bounds(h, oh):
        cells = [ops.amax(x[:, :, r0:r1, c0:c1], dim=(2, 3)) for c0, c1 in _bounds(w, ow)]
        rows.append(ops.stack(cells, dim=-1))
    return ops.stack(rows, dim=-2)


class AdaptiveMaxPool2d(Module):
    """Layer form of :func:`adaptive_max_pool2d`."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return adaptive_max_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class LearnedPool2d(Module):
    """A single learned pooling structure applied to every image (textbook 9.3 dynamic pooling, Jia 2012 form):
    y_c = sum_p softmax(a_c)_p x_{c,p} over each k x k window, one weight vector a_c per channel, initialised to
    zero (= average pooling); training can move it toward max- or corner-selection.
    (N, C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, channels, kernel_size, stride=None, dtype=None):
        super().__init__()
        self.channels, self.kernel_size = channels, _pair(kernel_size)
        self.stride = _pair(stride) if stride is not None else self.kernel_size
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        self.logits = Parameter(np.zeros((channels, self.kernel_size[0] * self.kernel_size[1]), dtype=dt))

    def pool_weights(self):
        """The (C, kh*kw) pooling weights (rows sum to 1)."""
        return ops.softmax(self.logits, dim=-1)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"LearnedPool2d: expected (N, {self.channels}, H, W), got {tuple(x.shape)}")
        n, c, h, w = x.shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
        cols = Fc.unfold(x, self.kernel_size, stride=self.stride).reshape(n, c, kh * kw, ho * wo)
        y = (cols * self.pool_weights().reshape(1, c, kh * kw, 1)).sum(2)
        return y.reshape(n, c, ho, wo)

    def extra_repr(self):
        return f"{self.channels}, kernel_size={self.kernel_size}, stride={self.stride}"


class UntiedBiasConv2d(Module):
    """Convolution with untied biases: one bias per output channel *and location* (textbook 9.5, B14) for a
    fixed input size. y = xcorr(x, W) + b, b of shape (C_out, H_out, W_out).
    (N, C_in, H, W) -> (N, C_out, H_out, W_out); ``input_size`` = (H, W) fixes the bias shape."""

    def __init__(self, in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, dtype=None):
        super().__init__()
        self.conv = Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False, dtype=dtype)
        kh, kw = _pair(kernel_size)
        sh, sw = _pair(stride)
        ph, pw = _pair(padding)
        h, w = _pair(input_size)
        self.input_size = (h, w)
        self.out_size = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
        dt = self.conv.weight.dtype
        self.bias = Parameter(np.empty((out_channels,) + self.out_size, dtype=dt))
        bound = 1.0 / math.sqrt(in_channels * kh * kw)
        _init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        if tuple(x.shape[2:]) != self.input_size:
            raise ValueError(f"UntiedBiasConv2d: built for inputs of size {self.input_size}, got "
                             f"{tuple(x.shape[2:])} (untied biases need a fixed input size)")
        return self.conv(x) + self.bias

    def extra_repr(self):
        return f"input_size={self.input_size}, bias_shape={tuple(self.bias.shape)}"


class LocalContrastNorm2d(Module):
    """Differentiable local contrast normalisation (textbook 12.2.1.1), usable as a hidden layer:
    v = x - G * x, y = v / max(eps, sqrt(lam + G * v^2)), G a size x size Gaussian (std ``sigma``) or box window
    applied per channel with symmetric borders (as ``data.preprocessing.local_contrast_normalize``); with
    ``across_channels`` the local statistics are also averaged over the channels. (N, C, H, W) -> same."""

    def __init__(self, size=9, sigma=2.0, kernel="gaussian", lam=0.0, eps=1e-2, across_channels=False):
        super().__init__()
        if not isinstance(size, int) or size < 1 or size % 2 == 0:
            raise ValueError(f"LocalContrastNorm2d: size must be a positive odd int, got {size!r}")
        if kernel not in ("gaussian", "box"):
            raise ValueError(f"LocalContrastNorm2d: kernel must be 'gaussian' or 'box', got {kernel!r}")
        if kernel == "gaussian" and not sigma > 0:
            raise ValueError(f"LocalContrastNorm2d: sigma must be > 0, got {sigma!r}")
        if eps <= 0 or lam < 0:
            raise ValueError(f"LocalContrastNorm2d: need eps > 0 and lam >= 0, got eps={eps}, lam={lam}")
        self.size, self.sigma, self.kernel, self.lam, self.eps = size, sigma, kernel, lam, eps
        self.across_channels = across_channels
        t = np.arange(size, dtype=np.float64) - size // 2
        w = np.exp(-0.5 * (t / sigma) ** 2) if kernel == "gaussian" else np.ones(size)
        self._w1d = w / w.sum()

    def _smooth(self, a):
        n, c, h, w = a.shape
        r = self.size // 2
        iy = np.pad(np.arange(h), r, mode="symmetric")
        ix = np.pad(np.arange(w), r, mode="symmetric")
        ap = a[:, :, iy][:, :, :, ix]
        kv = _const(np.broadcast_to(self._w1d.reshape(1, 1, -1, 1), (c, 1, self.size, 1)), a)
        kh = _const(np.broadcast_to(self._w1d.reshape(1, 1, 1, -1), (c, 1, 1, self.size)), a)
        out = Fc.conv2d(Fc.conv2d(ap, kv, None, 1, 0, 1, c), kh, None, 1, 0, 1, c)
        return out.mean(dim=1, keepdim=True) if self.across_channels else out

    def forward(self, x):
        x = check_tensor("LocalContrastNorm2d", x, "input")
        if x.ndim != 4:
            raise ValueError(f"LocalContrastNorm2d: expected (N, C, H, W), got {tuple(x.shape)}")
        v = x - self._smooth(x)
        var = self._smooth(v * v) + self.lam
        return v / ops.clamp_min(var, self.eps ** 2).sqrt()

    def extra_repr(self):
        return f"size={self.size}, kernel={self.kernel}, sigma={self.sigma}, eps={self.eps}"
