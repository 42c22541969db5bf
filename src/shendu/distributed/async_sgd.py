"""Asynchronous SGD (textbook 12.1.3): a Downpour-style parameter server on MPI, and lock-free Hogwild.

ParameterServer (Dean et al. 2012, "DistBelief"): one rank (the server) holds the parameters and an optimizer;
each worker trains on its own shard, *pushes* gradients and *pulls* parameters without waiting for the others.
The server applies every gradient as soon as it arrives, so a gradient may have been computed on parameters that
are several updates old: its *staleness* (server version at apply time - the version the worker computed on) is
recorded and reported.

hogwild (Recht et al. 2011): several processes on one machine share the parameters in shared memory and each
reads them and writes its SGD update without any lock; some updates overwrite others, but the step rate is
higher (textbook 12.1.3).
"""
from __future__ import annotations

import time

import numpy as np

from ..backend import device_of, is_host, to_device, to_host
from . import _group

_PUSH, _PULL, _PARAMS, _DONE = 11, 12, 13, 14


def _flat(params, grads=False):
    parts = []
    for p in params:
        t = p.grad if grads else p
        parts.append(np.zeros(p._data.size) if t is None else to_host(t._data).ravel().astype(np.float64))
    return np.concatenate(parts) if parts else np.zeros(0)


def _unflat(params, vec, grads=False):
    from ..autograd.tensor import _wrap

    off = 0
    for p in params:
        k = p._data.size
        v = vec[off:off + k].reshape(p._data.shape).astype(p._data.dtype)
        off += k
        arr = v if is_host(p._data) else to_device(v, device_of(p._data))
        if grads:
            p.grad = _wrap(arr)
        else:
            p._data = arr
            p._version += 1


class ParameterServer:
    """Downpour-style asynchronous SGD over the process group: rank ``server_rank`` serves, the others work.

    model: the same architecture on every rank (the server's initial values are the ones used).
    optimizer: a factory ``params -> optimizer`` run on the server (default SGD with ``lr``).
    Workers: ``pull()`` the latest parameters, compute gradients, ``push()`` them (nonblocking), repeat; the
    server: ``serve()`` until every worker called ``done()``. ``fit`` does both. ``staleness`` (on the server)
    lists each applied gradient's staleness; ``stats()`` summarizes it."""

    def __init__(self, model, optimizer=None, lr=0.1, server_rank=0):
        from ..optim import SGD

        self.comm = _group._comm("ParameterServer")
        if self.comm.Get_size() < 2:
            raise ValueError("ParameterServer: needs at least 2 processes (one server and one worker), "
                             f"got world size {self.comm.Get_size()}")
        _group._check_rank(server_rank, self.comm, "ParameterServer", "server_rank")
        self.model, self.server = model, int(server_rank)
        self.rank = self.comm.Get_rank()
        self.params = [p for p in model.parameters()]
        self.size = int(sum(p._data.size for p in self.params))
        self.version = 0
        self.staleness = []
        self.pushes, self.pulls = 0, 0
        self._out = []  # outstanding push requests (with their buffers)
        if self.is_server:
            self.optimizer = (optimizer or (lambda ps: SGD(ps, lr=lr)))(self.params)
        self.workers = [r for r in range(self.comm.Get_size()) if r != self.server]

    @property
    def is_server(self):
        return self.rank == self.server

    # ---- worker side ------------------------------------------------------------------------------------------
    def pull(self):
        """Fetch the server's current parameters (and their version) into the local model."""
        self._worker("pull")
        _group.wait(self.comm.Isend(np.zeros(1), dest=self.server, tag=_PULL), "ParameterServer.pull", peer=self.server)
        buf = np.empty(self.size + 1)
        _group.wait(self.comm.Irecv(buf, source=self.server, tag=_PARAMS), "ParameterServer.pull", peer=self.server)
        _unflat(self.params, buf[:-1])
        self.version = int(buf[-1])
        self.pulls += 1

    def push(self):
        """Send the local gradients to the server without waiting for it to apply them."""
        self._worker("push")
        buf = np.concatenate([_flat(self.params, grads=True), [float(self.version)]])
        self._out = [(r, b) for r, b in self._out if not r.Test()]
        self._out.append((self.comm.Isend(buf, dest=self.server, tag=_PUSH), buf))
        self.pushes += 1

    def done(self):
        """Tell the server this worker has finished (after its pushes have been delivered)."""
        self._worker("done")
        for r, _ in self._out:
            _group.wait(r, "ParameterServer.push", peer=self.server)
        self._out = []
        _group.wait(self.comm.Isend(np.zeros(1), dest=self.server, tag=_DONE), "ParameterServer.done", peer=self.server)

    def _worker(self, what):
        if self.is_server:
            raise RuntimeError(f"ParameterServer.{what}: rank {self.rank} is the server; only workers {what}")

    # ---- server side ------------------------------------------------------------------------------------------
    def serve(self):
        """Apply pushed gradients and answer pulls, in arrival order, until every worker is done."""
        if not self.is_server:
            raise RuntimeError(f"ParameterServer.serve: rank {self.rank} is a worker, the server is rank {self.server}")
        MPI = _group._mpi()
        left = len(self.workers)
        st = MPI.Status()
        grad = np.empty(self.size + 1)
        while left:
            deadline, pause = time.monotonic() + _group._S.timeout, 0.0
            while not self.comm.Iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=st):
                if time.monotonic() > deadline:
                    msg = (f"shendu.distributed.ParameterServer.serve: rank {self.rank} timed out after "
                           f"{_group._S.timeout:g} s waiting for {left} worker(s) (a worker died or exited early)")
                    _group._S.broken = msg
                    raise RuntimeError(msg)
                if pause:
                    time.sleep(pause)
                pause = min(pause * 2 or 1e-5, 1e-3)
            src, tag = st.Get_source(), st.Get_tag()
            if tag == _PUSH:
                self.comm.Recv(grad, source=src, tag=_PUSH)
                _unflat(self.params, grad[:-1], grads=True)
                self.optimizer.step()
                self.staleness.append(self.version - int(grad[-1]))
                self.version += 1
            elif tag == _PULL:
                self.comm.Recv(np.empty(1), source=src, tag=_PULL)
                out = np.concatenate([_flat(self.params), [float(self.version)]])
                _group.wait(self.comm.Isend(out, dest=src, tag=_PARAMS), "ParameterServer.serve (reply)", peer=src)
            elif tag == _DONE:
                self.comm.Recv(np.empty(1), source=src, tag=_DONE)
                left -= 1
            else:
                raise RuntimeError(f"ParameterServer.serve: unexpected message tag {tag} from rank {src}")

    def stats(self):
        """{'updates', 'mean_staleness', 'max_staleness'} on the server; worker counts on a worker."""
        if self.is_server:
            s = np.array(self.staleness or [0])
            return {"updates": self.version, "mean_staleness": float(s.mean()), "max_staleness": int(s.max())}
        return {"pushes": self.pushes, "pulls": self.pulls}

    # ---- both ------------------------------------------------------------------------------------------------
    def fit(self, x, y, loss, epochs=1, batch_size=32, fetch_every=1, push_every=1, seed=0):
        """Downpour SGD: worker k trains on shard k of (x, y) (minibatches of ``batch_size``), pulling every
        ``fetch_every`` steps and pushing its (accumulated) gradient every ``push_every`` steps; the server serves.
        Returns ``stats()``. After it, the server's model holds the final parameters."""
        from ..autograd.tensor import Tensor

        if self.is_server:
            self.serve()
            return self.stats()
        lossf = _loss(loss)
        k, n_workers = self.workers.index(self.rank), len(self.workers)
        x, y = np.asarray(x), np.asarray(y)
        idx = np.arange(len(x))[k::n_workers]
        rng = np.random.default_rng(seed + k)
        dev = device_of(self.params[0]._data) if self.params else None
        step = 0
        for _ in range(int(epochs)):
            order = rng.permutation(idx)
            for s in range(0, len(order), batch_size):
                b = order[s:s + batch_size]
                if step % fetch_every == 0:
                    self.pull()
                if step % push_every == 0:
                    for p in self.params:
                        p.grad = None
                xb, yb = Tensor(x[b], device=dev), Tensor(y[b], device=dev)
                lossf(self.model(xb), yb).backward()
                step += 1
                if step % push_every == 0:
                    self.push()
        self.done()
        return self.stats()


def _loss(loss):
    from ..train.resolve import get_loss

    return get_loss(loss)


def hogwild(model, x, y, loss, num_processes=2, epochs=1, batch_size=32, lr=0.05, seed=0, timeout=600):
    """Lock-free asynchronous SGD on one machine (Hogwild!, textbook 12.1.3).

    The parameters are moved into one shared-memory block; ``num_processes`` forked processes each run plain SGD
    (``p -= lr * grad``) on their shard of (x, y), reading and writing the shared parameters with no lock.
    Afterwards the model holds the result (on its original device). Returns {'steps': per process, 'seconds'}.
    The parameters must fit in host memory (shared memory is host memory by definition)."""
    import multiprocessing as mp
    from multiprocessing import shared_memory

    if int(num_processes) < 1:
        raise ValueError(f"hogwild: num_processes must be >= 1, got {num_processes!r}")
    params = list(model.parameters())
    if not params:
        raise ValueError("hogwild: the model has no parameters")
    devs = [device_of(p._data) for p in params]
    host = [np.ascontiguousarray(to_host(p._data)) for p in params]
    nbytes = sum(h.nbytes for h in host)
    shm = shared_memory.SharedMemory(create=True, size=max(nbytes, 1))
    views, off = [], 0
    for h in host:
        v = np.frombuffer(shm.buf, dtype=h.dtype, count=h.size, offset=off).reshape(h.shape)
        v[...] = h
        views.append(v)
        off += h.nbytes
    for p, v in zip(params, views):
        p._data = v
    counts = mp.get_context("fork").Array("l", int(num_processes), lock=False)
    x, y = np.asarray(x), np.asarray(y)
    t0 = time.perf_counter()
    procs = [mp.get_context("fork").Process(target=_hogwild_worker,
                                             args=(model, params, x, y, loss, k, int(num_processes), epochs,
                                                   batch_size, lr, seed, counts))
             for k in range(int(num_processes))]
    try:
        for pr in procs:
            pr.start()
        for pr in procs:
            pr.join(timeout)
        bad = [(i, pr.exitcode) for i, pr in enumerate(procs) if pr.exitcode != 0]
        if bad:
            for pr in procs:
                if pr.is_alive():
                    pr.terminate()
            raise RuntimeError(f"hogwild: worker process(es) failed or timed out after {timeout} s: "
                               f"{[f'worker {i} exit code {c}' for i, c in bad]}")
    finally:
        for p, v, d in zip(params, views, devs):
            p._data = to_device(v.copy(), d)
            p._version += 1
        del views, v
        shm.close()
        shm.unlink()
    return {"steps": list(counts), "seconds": time.perf_counter() - t0}


def _hogwild_worker(model, params, x, y, loss, k, n, epochs, batch_size, lr, seed, counts):
    from ..autograd.grad_mode import no_grad
    from ..autograd.tensor import Tensor

    lossf = _loss(loss)
    idx = np.arange(len(x))[k::n]
    rng = np.random.default_rng(seed + k)
    steps = 0
    for _ in range(int(epochs)):
        order = rng.permutation(idx)
        for s in range(0, len(order), batch_size):
            b = order[s:s + batch_size]
            for p in params:
                p.grad = None
            lossf(model(Tensor(x[b], device="cpu")), Tensor(y[b], device="cpu")).backward()
            with no_grad():
                for p in params:  # in place on the shared memory, no lock (Hogwild!)
                    if p.grad is not None:
                        p._data -= lr * p.grad._data
            steps += 1
            counts[k] = steps
