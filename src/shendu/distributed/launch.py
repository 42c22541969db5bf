"""``shendu run -n N script.py``: a thin launcher over ``mpiexec`` (MPI starts the processes; textbook 12.1.3).

The ``mpiexec`` is looked up next to the running Python first (the one ``pip install mpich`` puts in a virtual
environment's bin), then on PATH, so the launcher and mpi4py use the same MPI library.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys


def find_mpiexec():
    """Path of ``mpiexec`` (beside sys.executable first, then PATH), or None."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which("mpiexec")


def mpiexec_command(nproc, argv, hosts=None, python=None, extra=()):
    """The argument list ``mpiexec -n N [-hosts H] [extra...] python argv...``."""
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"shendu run: -n must be a positive number of processes, got {nproc!r}")
    exe = find_mpiexec()
    if exe is None:
        raise RuntimeError("shendu run: no mpiexec found beside the Python interpreter or on PATH; "
                           "install an MPI (pip install mpich mpi4py)")
    cmd = [exe, "-n", str(nproc)]
    if hosts:
        cmd += ["-hosts", hosts]
    cmd += list(extra)
    return cmd + [python or sys.executable] + list(argv)


def run(nproc, argv, hosts=None, timeout=None, env=None):
    """Run ``python argv...`` on ``nproc`` MPI processes; returns the exit status of mpiexec."""
    cmd = mpiexec_command(nproc, argv, hosts=hosts)
    return subprocess.run(cmd, timeout=timeout, env=env).returncode
