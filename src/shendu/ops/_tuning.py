"""The tuning thresholds of the convolution kernels and of their scratch-buffer cache, in one documented
settings object (issue 22): ``conv_settings`` (also ``shendu.ops.conv_settings``).

The convolution planner (``shendu.ops._conv.plan``) and the workspace cache (``shendu.ops._workspace``) read
these fields at call time, so changing one takes effect at the next call; ``conv_settings.override(**fields)``
changes some for a ``with`` block. Each field names the benchmark command of this repository that measures
it: ``benchmarks/kernels_ab.py --setting NAME=VALUE`` times training steps with the value and with the
default, alternating in one process (same-run ratios), ``benchmarks/cnn.py``/``benchmarks/tutorials.py`` time
whole workloads against PyTorch. All figures are 1 BLAS thread on the shared 2-core machine unless stated.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields


@dataclass
class ConvSettings:
    """Thresholds and switches of the convolution planner and its scratch memory (see the module docstring)."""

    workspace_bytes: int = 8 << 20
    """Upper bound on one chunk's column matrix (bytes); larger batches run in chunks. 4 MiB was ~20% faster
    single-threaded, 16 MiB much faster with 2 BLAS threads (fewer thread hand-offs); 8 MiB between.
    Measure: ``python benchmarks/kernels_ab.py --only cifar_cnn --setting workspace_bytes=4194304``."""

    keep_cols_bytes: int = 8 << 20
    """Column matrices of the whole batch up to this size are kept from forward for the weight gradient
    (no second im2col). Measure: ``python benchmarks/kernels_ab.py --only lenet --setting keep_cols_bytes=0``."""

    wide: bool = True
    """Plan "wide-stride1": stride-1 2-D groups=1 convolutions with few channels (C*kw < ``wide_max_ckw``) and
    fewer than ``item_min_out`` output positions build their columns on the zero-extended 'wide' grid (runs
    of Ho*Wp instead of W_out) when C*kw is below ``shendu.ops._conv.nhwc.ITEMS_MIN_CKW`` (6; e.g. one input
    channel); from there on, the same shapes take plan "nhwc-items" (LeNet's conv2, 6->16 5x5 on 14x14, since
    2026-11-30; it was "wide-stride1" before). Both need this switch on.
    Measure: ``python benchmarks/kernels_ab.py --only lenet --setting wide=False``."""

    wide_max_ckw: int = 32
    """The wide grid (plans "wide-stride1", "nhwc-items") is used while C*kw is below this (LeNet's conv2: 30).
    Measure: ``python benchmarks/kernels_ab.py --only lenet --setting wide_max_ckw=0``."""

    wide_max_wout: int = 20
    """... and either the output rows are shorter than this or the whole batch's wide columns fit in
    ``keep_cols_bytes``. Measure: ``python benchmarks/kernels_ab.py --only lenet --setting wide_max_wout=0``."""

    wide_chunk_bytes: int = 1 << 20
    """Plan "wide-stride1" builds its wide columns in chunks of about this many bytes (they stay in cache) in
    forward and again for the weight gradient; 0: chunks of ``workspace_bytes`` and the whole batch's columns
    kept from forward when they fit in ``keep_cols_bytes``. LeNet's conv2 when it ran "wide-stride1" (5.4 MiB of
    columns) with 1 MiB vs 0, ``kernels_ab.py --only lenet --repeat 41`` (1 thread, 2026-11-30), three runs:
    0.90x, 0.93x, 0.93x the step time; it now runs "nhwc-items", so LeNet no longer measures this field.
    Measure: ``python benchmarks/kernels_ab.py --only lenet --setting wide_chunk_bytes=0``."""

    wide_col2im: bool = True
    """Input-gradient route "wide-col2im": stride-1 2-D input gradients by slice-adds of whole rows on the
    zero-extended grid (else "gemm-col2im", one slice-add per kernel tap of runs of W_out).
    Measure: ``python benchmarks/kernels_ab.py --only lenet --setting wide_col2im=False``."""

    flat_col2im_bytes: int = 2 << 20
    """Upper bound on one chunk's column matrix in the "wide-col2im" input gradient of groups-1 convolutions
    (each item's block padded to Hp*Wp so that every kernel tap's slice-add is one run over the chunk): the
    slice-adds re-read it kh*kw times, so it should stay in cache. LeNet's conv2 input gradient inside training
    steps (1 thread, 2026-11-30, same process): 1.42 ms per call with 2 MiB chunks (16 items), 1.62 ms with the
    whole batch (7.2 MiB), 1.84 ms with 1 MiB (the route before, runs of Ho*Wp: 1.6-1.9 ms).
    Measure: ``python benchmarks/kernels_ab.py --only lenet --setting flat_col2im_bytes=8388608``."""

    nhwc: bool = True
    """Plan "nhwc-gemm": groups=1 convolutions with C*kw >= ``nhwc_min_ckw`` through channels-last column
    matrices (copies runs of kw*C contiguous values: ~4x faster im2col for C=64, 5x5 than NCHW's runs of W_out).
    Measure: ``python benchmarks/kernels_ab.py --only cifar_cnn mnist_cnn --setting nhwc=False``."""

    nhwc_min_ckw: int = 32
    """The channels-last layout is used from this C*kw on (CIFAR conv2 64x5, mnist_cnn conv2 32x3).
    Measure: ``python benchmarks/kernels_ab.py --only mnist_cnn --setting nhwc_min_ckw=128``."""

    item_min_out: int = 256
    """Plan "item-gemm": groups=1 convolutions with C*kw < ``nhwc_min_ckw`` and at least this many output
    positions use per-item column matrices and one batched GEMM W @ cols[n], which writes y in NCHW directly
    and gives the weight gradient without transposing gy (CIFAR conv1, 3->64 5x5 on 24x24: forward 8.5 ->
    ~5.5 ms, weight gradient ~10 -> ~6 ms). Chosen before the wide grid: for LeNet's conv1 (1->6 5x5 on
    28x28) and mnist_cnn's conv1 (1->32 3x3) forward + weight gradient took 0.80 vs 1.37 ms and 1.2 vs 2.9 ms
    (min of 60, 1 thread, 2026-11-30). Measure: ``python benchmarks/kernels_ab.py --only lenet mnist_cnn
    --setting item_min_out=1000000`` (those convs then take the wide grid)."""

    rot180: bool = True
    """Input-gradient route "rot180-corr": stride-1 input gradients with C >= ``rot180_min_channels`` as a
    forward correlation of gy with the rot180 kernel (the seeds' rule; im2col + GEMM instead of GEMM + col2im).
    Measure: ``python benchmarks/kernels_ab.py --only cifar_cnn mnist_cnn --setting rot180=False``."""

    rot180_min_channels: int = 32
    """The rot180 route from this many input channels on (col2im is cheaper when the input has few).
    Measure: ``python benchmarks/kernels_ab.py --only mnist_cnn --setting rot180_min_channels=64``."""

    fused_rot180: bool = True
    """Input-gradient route "rot180-fused": with rot180, a stride-1 dilation-1 groups=1 channels-last conv
    (O*kw >= ``nhwc_min_ckw``) computes the weight gradient from the same column matrices of gy (one im2col
    instead of two). Measure: ``python benchmarks/kernels_ab.py --only cifar_cnn --setting fused_rot180=False``."""

    winograd: bool = True
    """Plan "winograd" (shendu.ops._winograd, Lavin & Gray 2015): stride-1, dilation-1, groups-1 2-D 3x3 and 5x5
    convolutions in float32/float64 with enough channels (``winograd_min_c3``/``winograd_min_c5`` input channels
    and at least ``winograd_min_c3`` output channels) run forward, input gradient and weight gradient as
    F(m x m, r x r) tiles: 4x fewer multiplications for F(4,3), 2.8x for F(2,5). Kernel A/B in one process
    (``python benchmarks/winograd.py --repeat 5``, 1 thread, 2026-11-30): mnist_cnn conv2 (32->64 3x3, 26x26,
    batch 64) forward 0.34-0.49x im2col's time, forward + both gradients 0.39-0.51x; CIFAR conv2 (64->64 5x5,
    12x12, batch 128) with F(2,5) 0.39-0.52x; few input channels (1, 3, 6) lose 1.3-7x. Measure whole steps:
    ``python benchmarks/kernels_ab.py --only mnist_cnn cifar_cnn --setting winograd=False``."""

    winograd_min_c3: int = 16
    """Least input (and output) channels of a 3x3 convolution for the winograd plan (C=8 ties, C=16 wins
    0.4-0.7x). Measure: ``python benchmarks/winograd.py``."""

    winograd_min_c5: int = 8
    """Least input channels of a 5x5 convolution for the winograd plan (C=8 wins 0.3-0.5x; LeNet's conv2 with
    C=6 does not). Measure: ``python benchmarks/winograd.py``."""

    winograd_m3: int = 4
    """Output tile size for 3x3 kernels: F(4,3), float32 error 2-4x im2col's (F(2,3): 0.5-1x but half the
    saving). Measure: ``python benchmarks/winograd.py``; accuracy: tests/conv/test_winograd.py."""

    winograd_m5: int = 2
    """Output tile size for 5x5 kernels: F(2,5), float32 error 2-6x im2col's; F(4,5) is ~2x faster still on
    CIFAR conv2 but 9-15x im2col's error, so not the default. Measure: ``python benchmarks/winograd.py``."""

    winograd_chunk_bytes: int = 1 << 20
    """Bytes of one batch chunk's transformed input tiles (the chunk's working set stays in L2/L3).
    Measure: ``python benchmarks/winograd.py``."""

    winograd_gemm_min_c: int = 2
    """Below this many input channels the channel sum is broadcast products instead of a GEMM (NumPy's matmul
    with K = 1 is ~10x slower than one broadcast product). Measure: ``python benchmarks/winograd.py``."""

    winograd_nhwc_min_c: int = 16
    """Inputs with at least this many channels are tiled channels-last (the gathers copy runs of C values).
    Measure: ``python benchmarks/winograd.py``."""

    cache_bytes: int = 32 << 20
    """Per-thread byte budget of the cached scratch buffers (least recently used dropped beyond it); a buffer
    asked for again after being dropped grows its thread's budget to its reuse distance. Only small and
    padded host buffers and device buffers are cached here; large host scratch comes from ``ops._recycle``'s
    arena (the CIFAR CNN step at batch 128 caches 35 MiB, 86 MiB before the arena).
    Measure: ``python benchmarks/cnn.py --only cifar_cnn --repeat 3`` (peak memory
    column) and ``python benchmarks/kernels_ab.py --only cifar_cnn --setting cache_bytes=0``."""

    recycle_bytes: int = 256 << 20
    """Per-thread bound on the host arena regions of ``ops._recycle`` (the large arrays of a step — conv, batch
    norm, ReLU and max-pool outputs and gradients, large kernel scratch — carved from a few 64 MiB regions and
    taken back once nothing references them: no page faults on re-allocation; LeNet's step 11-13 -> 8.6-9.3 ms
    CPU). The CIFAR CNN step at batch 128 reserves 2 x 64 MiB (its peak RSS growth is 174 MiB: untouched pages
    of a region are never faulted in); beyond the bound arrays are made afresh.
    Measure: ``python benchmarks/kernels_ab.py --only lenet cifar_cnn --setting recycle_bytes=0``."""

    cache_entries: int = 256
    """At most this many cached buffers per thread (also the number of dropped keys remembered).
    Measure: ``python benchmarks/kernels_ab.py --only cifar_cnn --setting cache_entries=8``."""

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        object.__setattr__(self, "version", getattr(self, "version", 0) + 1)  # plans cached before are stale

    @contextlib.contextmanager
    def override(self, **changes):
        """Set some fields for a ``with`` block, restoring them afterwards."""
        names = {f.name for f in fields(self)}
        bad = sorted(set(changes) - names)
        if bad:
            raise ValueError(f"conv_settings.override: unknown setting(s) {bad}; known: {sorted(names)}")
        old = {k: getattr(self, k) for k in changes}
        for k, v in changes.items():
            setattr(self, k, v)
        try:
            yield self
        finally:
            for k, v in old.items():
                setattr(self, k, v)


#: The one settings instance the kernels read.
conv_settings = ConvSettings()
