"""The `shendu` command: `shendu train [RECIPE]`, `shendu list`, `shendu evaluate CHECKPOINT`, `shendu info`,
`shendu run -n N script.py` (MPI launcher; `shendu train RECIPE --nproc N` trains data-parallel),
`shendu tune RECIPE --param lr=loguniform:1e-4:1e-1 --trials N` (hyperparameter search, shendu.tune),
`shendu gallery [--quick] [--out DIR]` (the textbook gallery, shendu.gallery).

Bad arguments and missing data print one line `shendu: error: ...` and exit with code 2 (no traceback;
set SHENDU_DEBUG=1 to see it).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage as well)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_DATA_DIR_HELP = ("data folder, the same as $SHENDU_DATA: data set NAME is read from DIR/NAME/ (DIR/mnist, "
                  "DIR/cifar10, DIR/chatbot); default $SHENDU_DATA, else ~/.cache/shendu")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings (e.g. a ChecksumWarning for your own data file) as one line 'shendu: warning: ...'."""
    print(f"shendu: warning: {' '.join(str(message).split())}", file=sys.stderr if file is None else file)


def build_parser():
    from .recipes import DEFAULT

    p = _Parser(prog="shendu", description="shendu: a deep-learning framework that implements the textbook.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    t = sub.add_parser("train", help="train a named recipe (default: %s)" % DEFAULT,
                       description="Train a recipe, print its test metrics and write checkpoint, history CSV and "
                                   "plot into --out.")
    t.add_argument("recipe", nargs="?", default=DEFAULT, help=f"recipe name (default {DEFAULT}; see 'shendu list')")
    t.add_argument("--epochs", type=int, help="number of epochs (recipe default otherwise)")
    t.add_argument("--batch-size", type=int, help="minibatch size")
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--seed", type=int, help="random seed (default 0)")
    t.add_argument("--out", help="output folder (default runs/RECIPE)")
    t.add_argument("--threads", type=int, help="BLAS threads (default: the recipe's choice)")
    t.add_argument("--data-dir", help=_DATA_DIR_HELP)
    t.add_argument("--no-download", action="store_true", help="never download data sets")
    t.add_argument("--quick", action="store_true",
                   help="smoke run: 1 epoch (unless --epochs) of at most 20 steps, 500 test samples; never "
                        "downloads: without the data set's files it trains on small generated files in the same "
                        "format (and says so)")
    t.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="0 silent, 1 a progress bar on a terminal and one line per epoch otherwise, "
                        "2 one line per epoch")
    t.add_argument("--device", help="where to train: cpu (default), cuda or cuda:N (needs CuPy and an NVIDIA GPU; "
                                    "see 'shendu info')")
    t.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="data-parallel training on N processes (mpiexec; batch size is per process)")
    t.add_argument("--hosts", help="with --nproc: comma-separated hosts for mpiexec -hosts")
    t.add_argument("--distributed-child", action="store_true", help=argparse.SUPPRESS)
    r = sub.add_parser("run", help="run a Python script on N MPI processes (a thin mpiexec launcher)",
                       description="Run 'python SCRIPT ARGS...' on N processes with the mpiexec beside this Python "
                                   "(then on PATH); the script calls shendu.distributed.init_process_group().")
    r.add_argument("-n", "--nproc", type=int, default=1, metavar="N", help="number of processes")
    r.add_argument("--hosts", help="comma-separated hosts (mpiexec -hosts), for several machines")
    r.add_argument("script", help="the Python script")
    r.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    sub.add_parser("list", help="list the recipes", description="List the available recipes.")
    e = sub.add_parser("evaluate", help="evaluate a checkpoint written by 'shendu train'",
                       description="Rebuild the checkpoint's recipe, load its weights and print test metrics.")
    e.add_argument("checkpoint", help="path to checkpoint.safetensors")
    e.add_argument("--data-dir", help=_DATA_DIR_HELP)
    e.add_argument("--no-download", action="store_true", help="never download data sets")
    e.add_argument("--device", help="where to evaluate: cpu (default), cuda or cuda:N")
    sub.add_parser("info", help="versions, backend, threads", description="Print versions, backend and threads.")
    tu = sub.add_parser("tune", help="hyperparameter search on a recipe (Optuna; textbook 11.4)",
                        description="Search a recipe's hyperparameters; print the trials and the best one, write the "
                                    "study (SQLite), a CSV and PNG plots into --out (default runs/tune/RECIPE). "
                                    "Run again to resume a study.")
    tu.add_argument("recipe", help="recipe name (see 'shendu list')")
    tu.add_argument("--param", action="append", default=[], metavar="NAME=KIND:ARGS",
                    help="a hyperparameter: lr=loguniform:1e-4:1e-1, hidden=int:50:2000:log, act=categorical:a,b, "
                         "bn=bernoulli:0.5, lr=grid:0.1,0.01, lr=loggrid:1e-5:1e-1:5 (repeat the option)")
    tu.add_argument("--trials", type=int, default=20, help="number of trials in the study (default 20)")
    tu.add_argument("--jobs", type=int, default=1, help="parallel worker processes (default 1)")
    tu.add_argument("--sampler", default="tpe", choices=("tpe", "gp", "random", "grid", "qmc"), help="default tpe")
    tu.add_argument("--pruner", default="median", choices=("median", "halving", "hyperband", "none"),
                    help="early stopping of bad trials (default median)")
    tu.add_argument("--storage", help="SQLite file or RDB URL (default OUT/STUDY.db)")
    tu.add_argument("--study", help="study name (default the recipe's)")
    tu.add_argument("--out", help="output folder (default runs/tune/RECIPE)")
    tu.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    tu.add_argument("--quick", action="store_true", help="short trials (one epoch of a few steps; offline)")
    ga = sub.add_parser("gallery", help="run the textbook gallery: small experiments reproducing the books' claims",
                        description="Run small experiments, each testing one claim of the textbooks (XOR, "
                                    "vanishing gradients, the optimizer race, dropout, LSTM, ...), and write "
                                    "OUT/index.html with the figures, the measured numbers and a verdict per claim.")
    ga.add_argument("--quick", action="store_true", help="small versions (a few seconds each; what CI runs)")
    ga.add_argument("--out", default="runs/gallery", help="output folder (default runs/gallery)")
    ga.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only this experiment (repeat the option; see --list)")
    ga.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ga.add_argument("--list", action="store_true", help="list the experiments and exit")
    return p


def _device(spec):
    """The device named by --device (None: not given); an unknown or unavailable one is a one-line error
    (ValueError), e.g. "CUDA device requested but not available: CuPy is not installed ..."."""
    from .backend import resolve

    if spec is None:
        return None
    try:
        return resolve(spec)
    except (RuntimeError, TypeError, ValueError) as e:
        raise ValueError(f"--device {spec}: {e}") from None


def _train(args):
    from .recipes import run

    if args.nproc < 1:
        raise ValueError(f"--nproc must be >= 1, got {args.nproc}")
    if args.nproc > 1 and not args.distributed_child:  # relaunch this command on N processes (issue 17)
        return _launch(args.nproc, ["-m", "shendu"] + _strip_nproc(args.raw_argv) + ["--distributed-child"], args.hosts)
    dev = _device(args.device)
    run(args.recipe, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, out=args.out,
        threads=args.threads, download=not args.no_download, data_dir=args.data_dir, verbose=args.verbose,
        device=dev, quick=args.quick, distributed=args.distributed_child)


def _strip_nproc(argv):
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--nproc", "--hosts"):
            skip = True
        elif not a.startswith(("--nproc=", "--hosts=")):
            out.append(a)
    return out


def _launch(nproc, argv, hosts):
    import subprocess

    from .distributed.launch import mpiexec_command

    try:
        cmd = mpiexec_command(nproc, argv, hosts=hosts)
    except RuntimeError as e:
        raise ValueError(str(e)) from None
    return subprocess.run(cmd).returncode


def _run(args):
    if not os.path.isfile(args.script):
        raise ValueError(f"no such script: {args.script}")
    return _launch(args.nproc, [args.script] + list(args.args), args.hosts)


def _list(args):
    from .recipes import DEFAULT, get, names

    for name in names():
        r = get(name)
        d = r.defaults
        mark = " (default)" if name == DEFAULT else ""
        print(f"{name:20s} {r.description}{mark}  [epochs {d['epochs']}, batch {d['batch_size']}, lr {d['lr']:g}]")


def _evaluate(args):
    from .recipes import evaluate_checkpoint

    evaluate_checkpoint(args.checkpoint, download=not args.no_download, data_dir=args.data_dir,
                        device=_device(args.device))


def _tune(args):
    from .tune.cli import run_tune

    run_tune(args)


def _gallery(args):
    from . import gallery

    if args.list:
        for name, exp in gallery.REGISTRY.items():
            print(f"{name:22s} {exp.title}")
        return 0
    only = [n for o in args.only for n in o.split(",") if n]
    gallery.main(args.out, quick=args.quick, seed=args.seed, only=only or None)
    return 0


def _info(args):
    from .backend.info import info_text

    print(info_text())


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.raw_argv = list(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {"train": _train, "list": _list, "evaluate": _evaluate, "info": _info, "run": _run,
               "tune": _tune, "gallery": _gallery}[args.command]
    try:
        with warnings.catch_warnings():
            if not os.environ.get("SHENDU_DEBUG"):
                warnings.showwarning = _show_warning
            rc = handler(args)
        if rc:  # a launched mpiexec's exit status (shendu run / train --nproc)
            return int(rc)
    except KeyboardInterrupt:
        print("shendu: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, KeyError) as e:  # RecipeError, CheckpointError, missing files and data
        if os.environ.get("SHENDU_DEBUG"):
            raise
        msg = " ".join(str(e.args[0] if isinstance(e, KeyError) and e.args else e).split())
        print(f"shendu {args.command}: error: {msg}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
