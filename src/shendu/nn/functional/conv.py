"""Functional convolutions (textbook 9.1-9.2, 9.5, 9.8): conv1d/2d/3d, conv_transpose1d/2d/3d,
unfold/fold, and the separable-kernel fast path.

Layout NC* (NCHW for 2-D): input (N, C, *spatial) or unbatched (C, *spatial); weight
(O, C/groups, *k). ``padding``: int, tuple (symmetric per dim), tuple of (lo, hi) pairs, or
'valid' (0), 'same' (output size ceil(in/stride), extra pad at the end as TensorFlow and
PyTorch) or 'full' (d*(k-1) each side). ``flip_kernel=True`` flips the kernel over its spatial
axes, giving the true convolution of textbook eq. 9.4 instead of PyTorch's cross-correlation.
"""
from __future__ import annotations

from ...autograd.tensor import Tensor, as_tensor
from ...backend.lowp import AUTOCAST
from ...ops import flip, reshape
from ...ops._autocast import to_lowp
from ...ops._conv import ConvPlan, out_size, plan
from ...ops.conv import ConvNd, ConvTransposeNd


def _on(a, x):
    """A raw (non-Tensor) array argument as a constant tensor on x's device; tensors and None unchanged."""
    return a if a is None or isinstance(a, Tensor) else as_tensor(a, device=x.device)


def _tuple(v, nd, name, what):
    if isinstance(v, int):
        return (v,) * nd
    v = tuple(v)
    if len(v) != nd or not all(isinstance(a, int) for a in v):
        raise ValueError(f"{name}: {what} must be an int or a tuple of {nd} ints, got {v}")
    return v


def conv_pads(padding, sp, k, s, d, name):
    """Per-dim (lo, hi) padding for a padding spec (see the module docstring)."""
    nd = len(k)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * nd
        if mode == "full":
            return tuple((d[a] * (k[a] - 1),) * 2 for a in range(nd))
        if mode == "same":
            pads = []
            for a in range(nd):
                ek = d[a] * (k[a] - 1) + 1
                out = -(-sp[a] // s[a])
                tot = max((out - 1) * s[a] + ek - sp[a], 0)
                pads.append((tot // 2, tot - tot // 2))
            return tuple(pads)
        raise ValueError(f"{name}: padding must be an int, a tuple, 'valid', 'same' or 'full', got {padding!r}")
    if isinstance(padding, int):
        padding = (padding,) * nd
    padding = tuple(padding)
    if len(padding) != nd:
        raise ValueError(f"{name}: padding {padding} must have {nd} entries")
    pads = tuple((p, p) if isinstance(p, int) else tuple(p) for p in padding)
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        raise ValueError(f"{name}: negative padding {padding}")
    return pads


def _convnd(nd, name, input, weight, bias, stride, padding, dilation, groups, flip_kernel):
    x = input if isinstance(input, Tensor) else as_tensor(input)
    w = weight if isinstance(weight, Tensor) else as_tensor(weight, device=x.device)  # raw kernels follow x
    bias = _on(bias, x)
    if AUTOCAST.dtype is not None:  # amp.autocast: convolution runs in the low-precision dtype
        x, w, bias = to_lowp(x, w, bias)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = reshape(x, (1,) + x.shape)
    if x.ndim != nd + 2:
        raise ValueError(f"{name}: expected input of shape (N, C, {'*' * nd}) with {nd + 2} dims, got {x.shape}")
    if w.ndim != nd + 2:
        raise ValueError(f"{name}: expected weight of shape (O, C/groups, *k) with {nd + 2} dims, got {w.shape}")
    if groups < 1 or x.shape[1] != w.shape[1] * groups or w.shape[0] % groups:
        raise ValueError(
            f"{name}: input {x.shape} has {x.shape[1]} channels but weight {w.shape} with groups={groups} "
            f"expects {w.shape[1] * groups} (and out channels {w.shape[0]} divisible by groups)"
        )
    if bias is not None and tuple(bias.shape) != (w.shape[0],):
        raise ValueError(f"{name}: bias of shape {tuple(bias.shape)}, expected ({w.shape[0]},)")
    if x.dtype != w.dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} and weight dtype {w.dtype} differ")
    s = _tuple(stride, nd, name, "stride")
    d = _tuple(dilation, nd, name, "dilation")
    k = w.shape[2:]
    pads = conv_pads(padding, x.shape[2:], k, s, d, name)
    for a in range(nd):
        if out_size(x.shape[2 + a], k[a], s[a], d[a], *pads[a]) < 1:
            raise ValueError(
                f"{name}: input {x.shape} with padding {pads} is smaller than the dilated kernel {tuple(k)} "
                f"(dilation {d}) along spatial dim {a}"
            )
    if flip_kernel:
        w = flip(w, tuple(range(2, 2 + nd)))
    fn = ConvNd.planned(plan(x.shape, w.shape, s, d, pads, groups, x.dtype, x.device))
    y = fn(x, w) if bias is None else fn(x, w, bias)
    return reshape(y, y.shape[1:]) if unbatched else y


def conv_plan(input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1, dtype="float32",
              device=None) -> ConvPlan:
    """The kernel plan conv1d/2d/3d would run for these shapes (same arguments as conv2d, shapes batched):
    ``.name`` is the forward layout ("winograd", "nhwc-gemm", "nhwc-items", "wide-stride1", "item-gemm", "nchw-gemm"),
    ``.input_grad`` and ``.weight_grad`` the gradient routes; the profiler shows the same names, e.g.
    "ConvNd[nhwc-gemm]". Thresholds: shendu.ops.conv_settings. Textbook 9.8 (efficient convolution)."""
    x_shape, w_shape = tuple(input_shape), tuple(weight_shape)
    nd = len(w_shape) - 2
    if nd < 1 or len(x_shape) != nd + 2:
        raise ValueError(f"conv_plan: expected input (N, C, *sp) and weight (O, C/groups, *k) with the same number "
                         f"of dims, got {x_shape} and {w_shape}")
    if groups < 1 or x_shape[1] != w_shape[1] * groups or w_shape[0] % groups:
        raise ValueError(f"conv_plan: input {x_shape} has {x_shape[1]} channels but weight {w_shape} with "
                         f"groups={groups} expects {w_shape[1] * groups} (and out channels divisible by groups)")
    s = _tuple(stride, nd, "conv_plan", "stride")
    d = _tuple(dilation, nd, "conv_plan", "dilation")
    pads = conv_pads(padding, x_shape[2:], w_shape[2:], s, d, "conv_plan")
    return plan(x_shape, w_shape, s, d, pads, groups, dtype, device)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, flip_kernel=False):
    """1-D convolution: input (N, C, L), weight (O, C/groups, k) -> (N, O, L_out) (textbook 9.1)."""
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups, flip_kernel)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, flip_kernel=False):
    """2-D convolution: input (N, C, H, W), weight (O, C/groups, kh, kw) -> (N, O, H_out, W_out);
    H_out = floor((H + pad_lo + pad_hi - d(kh-1) - 1)/s) + 1 (textbook 9.1, 9.5).
    Reference: shendu.reference.conv.conv2d (with conv2d_input_grad, conv2d_weight_grad)."""
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups, flip_kernel)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, flip_kernel=False):
    """3-D convolution: input (N, C, D, H, W), weight (O, C/groups, kd, kh, kw)."""
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups, flip_kernel)


def _conv_transposend(nd, name, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x = input if isinstance(input, Tensor) else as_tensor(input)
    w = weight if isinstance(weight, Tensor) else as_tensor(weight, device=x.device)  # raw kernels follow x
    bias = _on(bias, x)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = reshape(x, (1,) + x.shape)
    if x.ndim != nd + 2 or w.ndim != nd + 2:
        raise ValueError(f"{name}: expected input (N, C_in, *sp) and weight (C_in, C_out/groups, *k) with "
                         f"{nd + 2} dims, got {x.shape} and {w.shape}")
    if x.shape[1] != w.shape[0] or w.shape[0] % groups:
        raise ValueError(f"{name}: input {x.shape} has {x.shape[1]} channels, weight {w.shape} expects {w.shape[0]} "
                         f"(divisible by groups={groups})")
    s = _tuple(stride, nd, name, "stride")
    d = _tuple(dilation, nd, name, "dilation")
    p = _tuple(padding, nd, name, "padding")
    op = _tuple(output_padding, nd, name, "output_padding")
    if any(op[a] >= max(s[a], d[a]) for a in range(nd)):
        raise ValueError(f"{name}: output_padding {op} must be smaller than stride {s} or dilation {d}")
    k = w.shape[2:]
    out = tuple((x.shape[2 + a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1 for a in range(nd))
    if any(o < 1 for o in out):
        raise ValueError(f"{name}: non-positive output size {out} for input {x.shape}")
    x_shape = (x.shape[0], w.shape[1] * groups) + out  # the adjoint convolution's input
    pads = tuple((pp, pp) for pp in p)
    fn = ConvTransposeNd.planned(plan(x_shape, w.shape, s, d, pads, groups, x.dtype, x.device), x_shape[1:])
    y = fn(x, w) if bias is None else fn(x, w, bias)
    return reshape(y, y.shape[1:]) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution (the adjoint of conv1d in its input): weight (C_in, C_out/groups, k)."""
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution: H_out = (H-1)s - 2p + d(k-1) + output_padding + 1 (textbook 9.5);
    weight (C_in, C_out/groups, kh, kw). Reference: shendu.reference.conv.conv_transpose2d."""
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution; weight (C_in, C_out/groups, kd, kh, kw)."""
    return _conv_transposend(3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col as PyTorch's F.unfold: (N, C, H, W) -> (N, C*kh*kw, L), L = H_out*W_out (differentiable,
    a 1x1-output convolution with an identity kernel bank)."""
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.ndim != 4:
        raise ValueError(f"unfold: expected input (N, C, H, W), got {x.shape}")
    k = _tuple(kernel_size, 2, "unfold", "kernel_size")
    c = x.shape[1]
    eye = _identity_bank(c, k, x.dtype, x.device)
    y = conv2d(x, eye, None, stride, padding, dilation, groups=c)
    return reshape(y, (y.shape[0], c * k[0] * k[1], -1))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im as PyTorch's F.fold: (N, C*kh*kw, L) -> (N, C, H, W), summing overlapping patches."""
    x = input if isinstance(input, Tensor) else as_tensor(input)
    k = _tuple(kernel_size, 2, "fold", "kernel_size")
    osz = _tuple(output_size, 2, "fold", "output_size")
    s = _tuple(stride, 2, "fold", "stride")
    d = _tuple(dilation, 2, "fold", "dilation")
    p = _tuple(padding, 2, "fold", "padding")
    kk = k[0] * k[1]
    if x.ndim != 3 or x.shape[1] % kk:
        raise ValueError(f"fold: expected input (N, C*{kk}, L), got {x.shape}")
    c = x.shape[1] // kk
    lo = [out_size(osz[a], k[a], s[a], d[a], p[a], p[a]) for a in range(2)]
    if lo[0] * lo[1] != x.shape[2]:
        raise ValueError(f"fold: input {x.shape} has L={x.shape[2]} blocks, expected {lo[0]}*{lo[1]}={lo[0] * lo[1]}")
    y = reshape(x, (x.shape[0], c * kk, lo[0], lo[1]))
    eye = _identity_bank(c, k, x.dtype, x.device)
    x_shape = (x.shape[0], c) + osz
    fn = ConvTransposeNd.planned(plan(x_shape, eye.shape, s, d, ((p[0], p[0]), (p[1], p[1])), c, x.dtype), x_shape[1:])
    return fn(y, eye)


def _identity_bank(c, k, dtype, device):
    """The constant (C*kh*kw, 1, kh, kw) kernel bank picking each tap, on ``device`` (built on the host, then
    copied once)."""
    import numpy as np

    kk = k[0] * k[1]
    eye = np.zeros((c * kk, 1, k[0], k[1]), dtype=dtype)
    eye.reshape(c, kk, kk)[:] = np.eye(kk, dtype=dtype)
    return as_tensor(eye, device=device)


def conv2d_separable(input, col_kernel, row_kernel, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise convolution with the separable kernel w[c] = col[c] outer row[c] as two 1-D passes
    (kh + kw instead of kh*kw multiplies per output; textbook 9.8): col_kernel (C, kh), row_kernel (C, kw)."""
    x = input if isinstance(input, Tensor) else as_tensor(input)
    cv = col_kernel if isinstance(col_kernel, Tensor) else as_tensor(col_kernel, device=x.device)
    rw = row_kernel if isinstance(row_kernel, Tensor) else as_tensor(row_kernel, device=x.device)
    bias = _on(bias, x)
    if x.ndim != 4 or cv.ndim != 2 or rw.ndim != 2 or not (cv.shape[0] == rw.shape[0] == x.shape[1]):
        raise ValueError(f"conv2d_separable: expected input (N, C, H, W), col (C, kh), row (C, kw); got "
                         f"{x.shape}, {cv.shape}, {rw.shape}")
    c = x.shape[1]
    s = _tuple(stride, 2, "conv2d_separable", "stride")
    d = _tuple(dilation, 2, "conv2d_separable", "dilation")
    pads = conv_pads(padding, x.shape[2:], (cv.shape[1], rw.shape[1]), s, d, "conv2d_separable")
    y = ConvNd((s[0], 1), (d[0], 1), (pads[0], (0, 0)), c)(x, reshape(cv, (c, 1, cv.shape[1], 1)))
    fn = ConvNd((1, s[1]), (1, d[1]), ((0, 0), pads[1]), c)
    w2 = reshape(rw, (c, 1, 1, rw.shape[1]))
    return fn(y, w2) if bias is None else fn(y, w2, bias)


def conv2d_fft(input, weight, bias=None, padding=0):
    """conv2d (stride 1, dilation 1, groups 1) through FFTs (textbook 9.8): cheaper than im2col for large
    kernels, O(HW log HW) per channel pair instead of O(HW kh kw). Same arguments and result as conv2d."""
    from ...ops.conv import ConvFFT2d

    x = input if isinstance(input, Tensor) else as_tensor(input)
    w = weight if isinstance(weight, Tensor) else as_tensor(weight, device=x.device)  # raw kernels follow x
    bias = _on(bias, x)
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(f"conv2d_fft: expected input (N, C, H, W) and weight (O, C, kh, kw), got {x.shape} and "
                         f"{w.shape}")
    pads = conv_pads(padding, x.shape[2:], w.shape[2:], (1, 1), (1, 1), "conv2d_fft")
    if any(out_size(x.shape[2 + a], w.shape[2 + a], 1, 1, *pads[a]) < 1 for a in range(2)):
        raise ValueError(f"conv2d_fft: input {x.shape} with padding {pads} is smaller than the kernel {w.shape[2:]}")
    fn = ConvFFT2d(pads)
    return fn(x, w) if bias is None else fn(x, w, bias)


def separable_factors(weight, rtol=1e-5):
    """(col, row) 1-D factors with weight[o, c] = col[o, c] outer row[o, c] if every 2-D kernel has rank 1
    (checked by SVD), else None. weight (O, C, kh, kw) as a NumPy array or Tensor; the factors are arrays
    on weight's device (float64)."""
    import numpy as np

    from ...backend import device_of, to_device, to_host

    arr = weight._data if isinstance(weight, Tensor) else weight
    # a one-off host analysis (a decision, then small factors): the SVD and its test run on the host
    w = np.asarray(to_host(arr) if hasattr(arr, "shape") else arr, dtype=np.float64)
    u, sv, vt = np.linalg.svd(w)
    if np.any(sv[..., 1:] > rtol * np.maximum(sv[..., :1], 1e-300)):
        return None
    r = np.sqrt(sv[..., 0])
    col, row = u[..., :, 0] * r[..., None], vt[..., 0, :] * r[..., None]
    if hasattr(arr, "shape"):
        dev = device_of(arr)
        if dev.type != "cpu":
            col, row = to_device(col, dev), to_device(row, dev)
    return col, row


__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold", "fold",
    "conv2d_separable", "separable_factors", "conv2d_fft", "conv_plan",
]
