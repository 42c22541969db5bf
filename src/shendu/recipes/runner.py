"""Run a recipe (train, report test metrics, write checkpoint/history CSV/plot) and evaluate its checkpoints."""
from __future__ import annotations

import contextlib
import os
import time

from ..backend import resolve
from .registry import RecipeError, get

__all__ = ["run", "evaluate_checkpoint", "make_config", "blas_threads", "auto_threads"]

CHECKPOINT = "checkpoint.safetensors"
QUICK_STEPS = 20  # --quick: optimizer steps of the one epoch
QUICK_TEST = 500  # --quick: test samples evaluated


def auto_threads():
    """BLAS threads for a recipe that names none: half the CPUs this process may use, 1 to 4 (on a 2-core machine
    shared with other work, more threads than that made the recipes up to 4x slower)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus // 2))


def make_config(name, epochs=None, batch_size=None, lr=None, seed=None, download=True, data_dir=None, threads=None,
                quick=False):
    """The recipe's defaults overridden by the given values (validated). quick: a smoke run (1 epoch unless
    `epochs` is given, at most QUICK_STEPS steps, QUICK_TEST test samples; never downloads)."""
    recipe = get(name)
    cfg = dict(recipe.defaults)
    if quick and epochs is None:
        epochs = 1
    for k, v in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr), ("seed", seed), ("threads", threads)):
        if v is not None:
            cfg[k] = v
    if not (isinstance(cfg["epochs"], int) and cfg["epochs"] >= 1):
        raise RecipeError(f"--epochs must be an int >= 1, got {cfg['epochs']!r}")
    if not (isinstance(cfg["batch_size"], int) and cfg["batch_size"] >= 1):
        raise RecipeError(f"--batch-size must be an int >= 1, got {cfg['batch_size']!r}")
    if cfg["threads"] is not None and not (isinstance(cfg["threads"], int) and cfg["threads"] >= 1):
        raise RecipeError(f"--threads must be an int >= 1, got {cfg['threads']!r}")
    if not (cfg["lr"] > 0):
        raise RecipeError(f"--lr must be > 0, got {cfg['lr']!r}")
    cfg["download"] = bool(download)
    cfg["data_dir"] = None if data_dir is None else os.fspath(data_dir)
    cfg["quick"] = bool(quick)
    return cfg


@contextlib.contextmanager
def blas_threads(n):
    """Limit BLAS threads to n inside the block (threadpoolctl; no-op for None or without threadpoolctl)."""
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=int(n), user_api="blas"):
        yield


def _build(name, cfg):
    from ..data.datasets import DatasetNotFoundError

    try:
        return get(name).build(cfg)
    except DatasetNotFoundError as e:
        raise RecipeError(_short_data_error(str(e))) from None


def _short_data_error(message):
    """One readable line from the data loaders' multi-line 'missing files' message."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    files = [ln for ln in lines[1:] if "(get it from" in ln]
    if not lines or not files:
        return " ".join(message.split())
    head = lines[0].rstrip(":")
    names = ", ".join(os.path.basename(f.split("(get it from")[0].strip()) for f in files)
    source = files[0].split("(get it from", 1)[1].split(" or ")[0].strip(" )")
    failed = next((ln.split(": ", 2)[-1] for ln in lines if ln.startswith("download failed")), None)
    why = f"; download failed ({failed})" if failed else ""
    return (f"{head.split(': missing')[0]}: missing {names} in {head.rsplit(' in ', 1)[-1]}{why}; "
            f"get them (e.g. {source}) and put them there, or pass --data-dir DIR or set $SHENDU_DATA=DIR "
            "(files in DIR/<data set>/); 'shendu train RECIPE --quick' runs offline on generated files")


def _quick_test(test):
    """The first QUICK_TEST samples of a test split given as arrays (a DataLoader or Dataset is left whole)."""
    if isinstance(test, (tuple, list)) and all(hasattr(a, "shape") for a in test):
        return tuple(a[:QUICK_TEST] for a in test)
    return test


def _fmt(res):
    return ", ".join(f"{k} {v:.4f}" for k, v in res.items())


def _on_device(setup, dev):
    """Put the recipe's model on device ``dev`` (in place: its optimizer keeps the same parameters). The data
    stay on the host and the training loop moves each batch to the model's device."""
    if dev is not None:
        setup.model.to(dev)
    return setup


def run(name="digits-mlp", *, out=None, verbose=1, print_fn=print, device=None, distributed=False, **overrides):
    """Train recipe `name` (seeded), print and return {'test': metrics, 'seconds': ..., 'out': folder}.

    Writes into `out` (default runs/NAME): checkpoint.safetensors (weights + recipe config), history.csv,
    history.png. BLAS threads: the recipe's, else `auto_threads()`. quick=True: a smoke run (see make_config),
    with generated data in the real format when the data set's files are missing (said in the output).
    device: where to train ("cpu" (default), "cuda", "cuda:N"); the model is built (with the same seeded initial
    values as on the CPU) and moved there; an unavailable device raises a RuntimeError
    ("CUDA device requested but not available: ...") before anything is built. The checkpoint holds host copies.
    distributed: data-parallel over this MPI job's processes (``shendu train RECIPE --nproc N``): fit(distributed=True),
    files and output on rank 0 only.
    """
    import shendu as sd

    from ..train import CSVLogger, fit

    dev = None if device is None else resolve(device)
    cfg = make_config(name, **overrides)
    out = os.fspath(out) if out is not None else os.path.join("runs", name)
    os.makedirs(out, exist_ok=True)
    with blas_threads(cfg.get("threads") or auto_threads()):
        t0 = time.perf_counter()
        sd.manual_seed(int(cfg["seed"]))
        s = _on_device(_build(name, cfg), dev)
        note = cfg.pop("data_note", None)
        if note:
            print_fn(f"{name}: {note}")
        callbacks = list(s.callbacks) + [CSVLogger(os.path.join(out, "history.csv"))]
        fit_kwargs = dict(s.fit_kwargs)
        if cfg.get("quick"):
            fit_kwargs["max_steps"] = min(fit_kwargs.get("max_steps") or QUICK_STEPS, QUICK_STEPS)
        history = fit(s.model, s.train, loss=s.loss, optimizer=s.optimizer, epochs=cfg["epochs"],
                      batch_size=cfg["batch_size"], val_data=s.val, metrics=s.metrics, callbacks=callbacks,
                      scheduler=s.scheduler, verbose=verbose, distributed=distributed, **fit_kwargs)
        trainer = history.trainer
        if distributed:  # issue 17: the other ranks write and print nothing
            from ..distributed import get_rank

            if get_rank() != 0:
                return {"test": None, "out": out, "history": history, "model": s.model, "config": cfg}
        test = trainer.evaluate(_quick_test(s.test) if cfg.get("quick") else s.test)
        seconds = time.perf_counter() - t0
        sd.save({"kind": "shendu-recipe", "recipe": name, "config": cfg, "model": s.model.state_dict(),
                 "test": test, "history": history.state_dict()}, os.path.join(out, CHECKPOINT))
        history.plot(os.path.join(out, "history.png"))
    print_fn(f"{name}: test {_fmt(test)} after {len(history)} epochs in {seconds:.1f} s; wrote {out}/"
             f"{{{CHECKPOINT}, history.csv, history.png}}")
    if s.report is not None:
        if hasattr(s.model, "eval"):
            s.model.eval()
        for line in s.report(s.model):
            print_fn(line)
    return {"test": test, "seconds": seconds, "out": out, "history": history, "model": s.model, "config": cfg}


def evaluate_checkpoint(path, *, print_fn=print, download=True, data_dir=None, device=None):
    """Rebuild the recipe stored in a checkpoint written by `run`, load its weights, print test metrics
    (computed on `device`, default the CPU)."""
    import shendu as sd

    from ..train import Trainer

    dev = None if device is None else resolve(device)
    state = sd.load(path)
    if not isinstance(state, dict) or state.get("kind") != "shendu-recipe":
        raise RecipeError(f"{path} is not a recipe checkpoint (written by 'shendu train')")
    cfg = dict(state["config"])
    cfg["download"] = download
    if data_dir is not None:
        cfg["data_dir"] = os.fspath(data_dir)
    with blas_threads(cfg.get("threads") or auto_threads()):
        sd.manual_seed(int(cfg["seed"]))
        s = _on_device(_build(state["recipe"], cfg), dev)
        note = cfg.pop("data_note", None)
        if note:
            print_fn(f"{state['recipe']}: {note}")
        s.model.load_state_dict(state["model"])  # onto the parameters' device
        trainer = Trainer(s.model, loss=s.loss, optimizer=s.optimizer, metrics=s.metrics, verbose=0)
        test = trainer.evaluate(_quick_test(s.test) if cfg.get("quick") else s.test)
    print_fn(f"{state['recipe']} ({path}): test {_fmt(test)}")
    return test
