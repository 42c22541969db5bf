"""Gradient-recording switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled`` (per thread).

Textbook 6.5.2: the computational graph is recorded only while grad mode is on.
"""
from __future__ import annotations

import functools
import threading


class _ModeState(threading.local):
    """Recording flags of the calling thread: a ``threading.local`` whose class attributes are the
    defaults, so a new thread starts with grad enabled and anomaly mode off, and a flag set in one
    thread (``no_grad``, ``detect_anomaly``, ``backward``) never changes another's.

    Fast path (read on every op): ``not _GRAD_OFF`` (process-wide, no thread-local lookup) says that no
    thread has grad mode off, so ``Function.__call__`` reads the thread's flag only while some thread
    does; likewise ``anomaly_any`` for anomaly mode. ``profiler`` stays process-wide:
    ``autograd.profile`` patches ``Function.__call__`` for every thread. ``hooked`` (process-wide) is
    ``anomaly_any or tracing_any``: the one flag ``Function.__call__``'s fast path reads for both; ``tracer``
    is the calling thread's ``autograd.capture`` recorder while it traces a call."""

    grad_enabled = True
    anomaly = False
    anomaly_any = False  # process-wide: some thread has anomaly mode on
    tracing_any = False  # process-wide: some thread is tracing a call for autograd.capture
    hooked = False  # process-wide: anomaly_any or tracing_any
    tracer = None  # this thread's capture recorder, or None
    _profiler = None  # process-wide: the active autograd.profile

    @property
    def profiler(self):
        """The active ``autograd.profile`` (process-wide), or None."""
        return _ModeState._profiler

    @profiler.setter
    def profiler(self, prof):
        _ModeState._profiler = prof


_Mode = _ModeState()
#: One entry per thread whose grad mode is off (list append/pop are atomic): empty means every
#: thread records, the fast path of ``Function.__call__``. Every write of ``_Mode.grad_enabled``
#: goes through ``set_mode`` so that the list stays in step.
_GRAD_OFF: list = []
_ANOMALY_ON: list = []  # the same for anomaly mode
_ANOMALY_LOCK = threading.Lock()


def set_mode(enabled: bool) -> bool:
    """Set the calling thread's grad mode; returns the previous one (restore it with ``set_mode(prev)``)."""
    prev = _Mode.grad_enabled
    if enabled:
        if not prev:
            _Mode.grad_enabled = True
            _GRAD_OFF.pop()
    elif prev:
        _GRAD_OFF.append(None)
        _Mode.grad_enabled = False
    return prev


def _set_anomaly(on: bool) -> bool:
    """Set the calling thread's anomaly mode; returns the previous one."""
    prev = _Mode.anomaly
    on = bool(on)
    if on != prev:
        with _ANOMALY_LOCK:
            if on:
                _ANOMALY_ON.append(None)
            else:
                _ANOMALY_ON.pop()
            _Mode.anomaly = on
            _ModeState.anomaly_any = bool(_ANOMALY_ON)
            _ModeState.hooked = _ModeState.anomaly_any or _ModeState.tracing_any
    return prev


_TRACERS: list = []  # one entry per thread tracing a call for autograd.capture


def set_tracer(tracer):
    """Make ``tracer`` the calling thread's capture recorder (None: stop); returns the previous one."""
    prev = _Mode.tracer
    with _ANOMALY_LOCK:
        if prev is not None:
            _TRACERS.remove(prev)
        if tracer is not None:
            _TRACERS.append(tracer)
        _Mode.tracer = tracer
        _ModeState.tracing_any = bool(_TRACERS)
        _ModeState.hooked = _ModeState.anomaly_any or _ModeState.tracing_any
    return prev


def note_made(t) -> None:
    """Tell the calling thread's capture tracer (if any) that ``t`` was made by a factory (``sd.zeros``,
    ``sd.tensor``, a Python number in an op): a constant a replay may reuse when both traced calls agree on it."""
    tracer = _Mode.tracer
    if tracer is not None:
        tracer.made(t)


def note_alias(src, out) -> None:
    """Tell the calling thread's capture tracer (if any) that ``out`` shares ``src``'s array (``detach``)."""
    tracer = _Mode.tracer
    if tracer is not None:
        tracer.alias(src, out)


def note_pure(name, inputs, out, **kw) -> None:
    """Tell the calling thread's capture tracer (if any) that ``out`` is ``xp.<name>(*inputs' arrays, **kw)``
    computed without an op (a comparison, argmax: no gradient); a replay computes it again."""
    tracer = _Mode.tracer
    if tracer is not None:
        tracer.pure(name, inputs, out, kw)


def note_check(arr, check) -> None:
    """Tell the calling thread's capture tracer (if any) that library code checked ``arr`` on the host with
    ``check(arr)`` (which raises on bad values: an index out of range): a replay runs the check again."""
    tracer = _Mode.tracer
    if tracer is not None:
        tracer.check(arr, check)


def check_values(arr, check, **settings) -> None:
    """Run library code's host check ``check(arr, **settings)`` (it raises on bad values: an index out of range)
    and, while the calling thread traces a call for ``autograd.capture``, register it so a replay runs it again."""
    check(arr, **settings)
    if _ModeState.tracing_any:
        note_check(arr, functools.partial(check, **settings) if settings else check)


def refuse_while_tracing(what: str) -> None:
    """Raise if the calling thread is tracing a call for ``autograd.capture``: ``what`` (a host read, an in-place
    update, an optimizer step...) happens outside the recorded ops, so a replay would silently skip it."""
    tracer = _Mode.tracer
    if tracer is not None:
        tracer.refuse(what)


def is_grad_enabled() -> bool:
    """True when ops record the graph for back-propagation (in the calling thread)."""
    return not _GRAD_OFF or _Mode.grad_enabled


class _GradSwitch:
    """Context manager and decorator setting the calling thread's grad mode to ``self._target``."""

    _target = True

    def __enter__(self):
        self._prev = set_mode(self._target)
        return self

    def __exit__(self, *exc):
        set_mode(self._prev)
        return False

    def __call__(self, fn):
        target = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = set_mode(target)
            try:
                return fn(*args, **kwargs)
            finally:
                set_mode(prev)

        return wrapper


class no_grad(_GradSwitch):
    """Disable graph recording (``with sd.no_grad():`` or ``@sd.no_grad()``)."""

    _target = False


class enable_grad(_GradSwitch):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _target = True


class inference_mode(no_grad):
    """Like ``no_grad`` (torch.inference_mode): no graph is recorded inside the block; ``mode=False`` records."""

    def __init__(self, mode=True):
        self._target = not bool(mode)


class set_grad_enabled(_GradSwitch):
    """Set grad mode to ``mode``, as PyTorch: at once when called (``sd.set_grad_enabled(False)``), or for a block
    (``with sd.set_grad_enabled(False): ...``, the previous mode comes back on exit), or as a decorator."""

    def __init__(self, mode: bool):
        self._target = bool(mode)
        self._prev = set_mode(self._target)  # a plain call takes effect now

    def __enter__(self):
        return self

    def __call__(self, fn):
        set_mode(self._prev)  # used as a decorator: only the decorated function changes the mode
        return super().__call__(fn)


class detect_anomaly:
    """Anomaly mode: every op checks its forward output and backward gradients for NaN/Inf and
    raises an error naming the op that produced the first one (slow; for debugging). Per thread."""

    def __init__(self, enabled: bool = True):
        self._target = bool(enabled)

    def __enter__(self):
        self._prev = _set_anomaly(self._target)
        return self

    def __exit__(self, *exc):
        _set_anomaly(self._prev)
        return False
