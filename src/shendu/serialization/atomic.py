"""Atomic file writes: temp file in the same folder, fsync, `os.replace`, fsync of the folder; temp files
of killed saves are removed by the next save of that path. The in-flight set and its lock live here only.
"""
from __future__ import annotations

import os
import re
import tempfile
import threading

_IN_FLIGHT: set = set()  # temp files this process is writing now (other threads' saves)
_LOCK = threading.Lock()
_TMP_RE = re.compile(r"(?:(\d+)-)?[a-z0-9_]{8}")  # "<pid>-<random>" (random alone: written before pids)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by another user
        return True
    return True


def _remove_stale_temps(folder, base):
    """Delete temp files of `base` left by saves that were killed (their process is gone)."""
    prefix, me = f".{base}.", os.getpid()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        m = _TMP_RE.fullmatch(name[len(prefix):-4])
        if m is None:
            continue
        pid = int(m.group(1)) if m.group(1) else None
        full = os.path.join(folder, name)
        with _LOCK:
            if full in _IN_FLIGHT or (pid is not None and pid != me and _pid_alive(pid)):
                continue
        try:
            os.unlink(full)
        except OSError:
            pass


def _chmod_as_umask(fd) -> None:
    """Give the temp file (mkstemp makes it 0600) the mode `open()` would: 0o666 & ~umask."""
    with _LOCK:  # os.umask reads by setting: keep the swap short and serialized
        mask = os.umask(0o022)
        os.umask(mask)
    try:
        os.fchmod(fd, 0o666 & ~mask)
    except (AttributeError, OSError):  # no fchmod (Windows) or a file system without modes
        pass


def _atomic_write(path, chunks) -> None:
    """Write the byte chunks to `path` atomically: temp file in the same folder, fsync, os.replace, fsync folder."""
    path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temps(folder, base)
    with _LOCK:
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.{os.getpid()}-", suffix=".tmp", dir=folder)
        _IN_FLIGHT.add(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            for c in chunks:
                f.write(c)
            f.flush()
            _chmod_as_umask(f.fileno())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        with _LOCK:
            _IN_FLIGHT.discard(tmp)
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write `data` to `path` atomically: temp file in the same folder, fsync, os.replace, fsync folder."""
    _atomic_write(path, [data])
