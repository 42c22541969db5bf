"""A CPU stand-in for a CUDA device, strict where CuPy is strict (for tests; no GPU needed).

``install()`` makes it shendu's "cuda" backend: ``sd.cuda.is_available()`` is True, ``x.cuda()`` and
``model.to("cuda")`` put arrays on it, and every op runs on its namespace. Its arrays (``StrictArray``)
are NumPy arrays in disguise that refuse, as ``cupy.ndarray`` does, every implicit host/device mix:

* a host ``numpy.ndarray`` given to a device function or ufunc, or met by a device array in one,
  raises ``HostDeviceMix`` (CuPy: "Unsupported type numpy.ndarray"); only ``xp.asarray``/``xp.array``
  (the explicit transfers) accept host arrays; Python and NumPy scalars are fine;
* ``numpy.asarray``/``numpy.array``/``numpy.ascontiguousarray`` and ``as_strided`` on a device array raise
  (CuPy forbids implicit device-to-host conversion: use ``.get()``, here ``backend.to_host``);
* ``x[key] = host_array`` and host index arrays in ``x[key]`` raise; ``x.flags.writeable`` does not exist;
* results are device arrays, and reductions to one value give 0-d device arrays (not NumPy scalars).

It models only where arrays live and what converts implicitly, not CuPy's numerics or missing functions.
"""
from __future__ import annotations

import types

import numpy as np

from ..backend.device import Backend

_np_asarray = np.asarray
_np_array = np.array


class HostDeviceMix(TypeError):
    """An implicit host/device conversion that CuPy would refuse."""


class _Flags:
    __slots__ = ("_f",)

    def __init__(self, f):
        self._f = f

    def __getattr__(self, name):
        if name == "writeable":
            raise AttributeError("[strict device] cupy.ndarray.flags has no attribute 'writeable'")
        return getattr(self._f, name)


def _is_host(x) -> bool:
    return isinstance(x, np.ndarray) and not isinstance(x, StrictArray)


def _check(name, objs, depth=0):
    for o in objs:
        if isinstance(o, (list, tuple)) and depth < 2:
            _check(name, o, depth + 1)
        elif _is_host(o):
            raise HostDeviceMix(
                f"[strict device] {name}: a host numpy.ndarray {o.shape} {o.dtype} meets device arrays "
                "(CuPy: Unsupported type numpy.ndarray); move it with xp.asarray or Tensor.to(device)")


def _host(x):
    if isinstance(x, StrictArray):
        return x.view(np.ndarray)
    if isinstance(x, tuple):
        return tuple(_host(v) for v in x)
    if isinstance(x, list):
        return [_host(v) for v in x]
    if isinstance(x, dict):
        return {k: _host(v) for k, v in x.items()}
    return x


def _dev(r):
    if type(r) is np.ndarray:
        return r.view(StrictArray)
    if isinstance(r, np.generic):  # CuPy returns 0-d arrays where NumPy returns scalars
        return _np_asarray(r).view(StrictArray)
    if isinstance(r, list):
        return [_dev(v) for v in r]
    if isinstance(r, tuple):
        vals = [_dev(v) for v in r]
        return type(r)(*vals) if hasattr(r, "_fields") else tuple(vals)
    return r


def _check_key(key):
    keys = key if isinstance(key, tuple) else (key,)
    for k in keys:
        if _is_host(k) and k.ndim > 0:
            raise HostDeviceMix(f"[strict device] indexing a device array with a host index array {k.shape} {k.dtype}")


class StrictArray(np.ndarray):
    """A "device" array: a NumPy array that refuses implicit host/device mixing as cupy.ndarray does."""

    @property
    def flags(self):
        return _Flags(np.ndarray.flags.__get__(self))

    def __array__(self, dtype=None, copy=None):
        raise HostDeviceMix(
            "[strict device] implicit conversion to a NumPy array is not allowed; copy to host explicitly"
        )

    def __getitem__(self, key):
        _check_key(key)
        return _dev(np.ndarray.__getitem__(self.view(np.ndarray), _host(key)))

    def __setitem__(self, key, value):
        _check_key(key)
        if _is_host(value) and value.ndim > 0:
            raise HostDeviceMix(
                f"[strict device] x[...] = host array {value.shape} {value.dtype}: non-scalar numpy.ndarray "
                "cannot be used for fill (CuPy); move it to the device first")
        np.ndarray.__setitem__(self.view(np.ndarray), _host(key), _host(value))

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kw):
        name = ufunc.__name__ + ("" if method == "__call__" else "." + method)
        _check(name, inputs)
        if out is not None:
            _check(name + " out=", out)
            kw["out"] = tuple(_host(o) for o in out)
        if "where" in kw:
            _check(name + " where=", (kw["where"],))
            kw["where"] = _host(kw["where"])
        res = getattr(ufunc, method)(*[_host(x) for x in inputs], **kw)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _dev(res)

    def __array_function__(self, func, types_, args, kwargs):
        _check(func.__name__, args)
        _check(func.__name__, tuple(kwargs.values()))
        return _dev(func(*_host(args), **_host(kwargs)))


class _UFunc:
    __slots__ = ("_uf", "__name__")

    def __init__(self, uf):
        self._uf = uf
        self.__name__ = uf.__name__

    def __call__(self, *args, **kw):
        _check(self.__name__, args)
        out = kw.get("out")
        if out is not None:
            outs = out if isinstance(out, tuple) else (out,)
            _check(self.__name__ + " out=", outs)
            self._uf(*_host(args), **_host(kw))
            return out
        return _dev(self._uf(*_host(args), **_host(kw)))

    def __getattr__(self, m):
        meth = getattr(self._uf, m)
        if not callable(meth):
            return meth
        name = f"{self.__name__}.{m}"

        def call(*args, **kw):
            _check(name, args)
            _check(name, tuple(kw.values()))
            res = meth(*_host(args), **_host(kw))
            return None if res is None else _dev(res)
        return call


_CONVERTERS = frozenset(("asarray", "array", "asanyarray", "ascontiguousarray"))


def _function(name, f):
    convert = name.rsplit(".", 1)[-1] in _CONVERTERS

    def g(*args, **kw):
        if not convert:
            _check(name, args)
            _check(name, tuple(kw.values()))
        if kw.get("out") is not None:
            f(*_host(args), **_host(kw))
            return kw["out"]
        return _dev(f(*_host(args), **_host(kw)))
    g.__name__ = name
    return g


class StrictNamespace(types.ModuleType):
    """The stand-in's array namespace: NumPy's functions, checked for host arrays, returning device arrays."""

    def __init__(self, mod, prefix):
        super().__init__(prefix)
        self._mod, self._prefix = mod, prefix

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        a = getattr(self._mod, name)
        if name == "ndarray":
            v = StrictArray
        elif isinstance(a, types.ModuleType):
            v = StrictNamespace(a, f"{self._prefix}.{name}")
        elif isinstance(a, np.ufunc):
            v = _UFunc(a)
        elif isinstance(a, type) or not callable(a):
            v = a
        else:
            v = _function(f"{self._prefix}.{name}", a)
        setattr(self, name, v)  # cache: the next lookup is a plain attribute
        return v


xp = StrictNamespace(np, "strict")


class _StrictGenerator:
    """A NumPy Generator whose draws land on the stand-in device."""

    def __init__(self, seed):
        self._g = np.random.default_rng(seed)

    def get_state(self):
        return self._g.bit_generator.state

    def set_state(self, state):
        self._g.bit_generator.state = state

    def __getattr__(self, name):
        f = getattr(self._g, name)
        if name in ("random", "standard_normal", "normal", "uniform", "integers", "permutation"):
            return lambda *a, **k: _dev(_np_asarray(f(*a, **k)))
        raise AttributeError(f"[strict device] the device generator has no method {name!r}")


class StrictBackend(Backend):
    """The stand-in as shendu's "cuda" backend (one device, cuda:0)."""

    name = "cuda"
    xp = xp
    array_type = StrictArray

    def device_count(self) -> int:
        return 1

    def index_of(self, arr) -> int:
        return 0

    def to_device(self, arr, index):
        if isinstance(arr, StrictArray):
            return arr
        return _np_array(arr, copy=True).view(StrictArray)

    def to_host(self, arr):
        return _np_array(arr.view(np.ndarray), copy=True)

    def generator(self, seed, index):
        return _StrictGenerator(seed)

    def info(self) -> dict:
        return {"cuda:0": "strict CPU stand-in (shendu.testing.strict_device), not a GPU"}


def _forbid(name, f):
    def g(*args, **kw):
        if args and isinstance(args[0], StrictArray):
            raise HostDeviceMix(f"[strict device] numpy.{name} on a device array (implicit device-to-host conversion)")
        return f(*args, **kw)
    g.__name__ = name
    g.__wrapped__ = f
    return g


_GUARDS = {}


def install() -> StrictBackend:
    """Make the stand-in shendu's "cuda" backend and guard NumPy's converters against device arrays."""
    from ..backend.device import set_cuda_backend

    if not _GUARDS:
        for n in ("asarray", "array", "asanyarray", "ascontiguousarray"):
            _GUARDS[(np, n)] = getattr(np, n)
            setattr(np, n, _forbid(n, getattr(np, n)))
        st = np.lib.stride_tricks
        _GUARDS[(st, "as_strided")] = st.as_strided
        st.as_strided = _forbid("lib.stride_tricks.as_strided", st.as_strided)
    be = StrictBackend()
    set_cuda_backend(be)
    return be


def uninstall() -> None:
    """Undo ``install()``: NumPy's converters as they were, and CuPy (if any) as the "cuda" backend."""
    from ..backend.device import set_cuda_backend

    for (mod, n), f in _GUARDS.items():
        setattr(mod, n, f)
    _GUARDS.clear()
    set_cuda_backend(None)
