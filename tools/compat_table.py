"""Generate docs/compat.md: which PyTorch names a textbook-level program uses exist in shendu, and whether a
test checks them against torch.

    .venv/bin/python tools/compat_table.py          # rewrite docs/compat.md
    .venv/bin/python tools/compat_table.py --check  # exit 1 if docs/compat.md is out of date

Names come from torch itself: every public name of torch.nn, torch.nn.functional, torch.optim,
torch.optim.lr_scheduler, torch.utils.data and torch.nn.utils, and for ``torch`` and ``torch.Tensor`` (over a
thousand names each, most never met in a textbook) the textbook-level subset listed below, kept only where torch
has it. "present": shendu has the same name at the same path. "tested": the name appears (as a word) in a test
file under tests/ that imports torch as its oracle.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "compat.md")

TORCH_TEXTBOOK = """
tensor as_tensor from_numpy is_tensor zeros ones full empty eye arange linspace logspace zeros_like ones_like
full_like empty_like rand randn randint randperm normal rand_like randn_like randint_like manual_seed seed
Generator device get_default_dtype set_default_dtype float32 float64 float16 int64 int32 int8 uint8 bool float
double long half int16
abs add sub mul div true_divide floor_divide remainder fmod pow exp exp2 log log2 log10 log1p expm1 sqrt rsqrt
square sin cos tan asin acos atan sinh cosh tanh sigmoid relu sign neg reciprocal floor ceil round trunc frac
clamp clip lerp erf maximum minimum where
sum mean std var prod max min amax amin argmax argmin cumsum cumprod logsumexp norm median topk sort argsort all
any count_nonzero unique std_mean var_mean
eq ne lt le gt ge equal allclose isclose isnan isinf isfinite logical_and logical_or logical_not logical_xor
cat concat stack hstack vstack split chunk unbind reshape squeeze unsqueeze flatten transpose permute t movedim
swapaxes narrow flip roll tile repeat_interleave gather scatter scatter_add index_select masked_select take
nonzero tril triu diag diagonal trace broadcast_to broadcast_tensors meshgrid einsum matmul mm bmm dot outer
no_grad enable_grad set_grad_enabled inference_mode is_grad_enabled numel is_floating_point save load cdist
cosine_similarity pairwise_distance dropout softmax log_softmax one_hot
autograd nn optim utils cuda accelerator serialization onnx backends
""".split()

TENSOR_TEXTBOOK = """
item tolist numpy detach detach_ clone contiguous view view_as reshape reshape_as expand expand_as type_as type to
cpu cuda float double long int bool half size dim numel nelement shape dtype device T mT t transpose permute
squeeze unsqueeze flatten unflatten requires_grad requires_grad_ backward grad retain_grad register_hook is_leaf
grad_fn data is_floating_point is_contiguous element_size
masked_fill masked_fill_ scatter scatter_ scatter_add scatter_add_ index_select index_add index_add_ gather
fill_ zero_ copy_ add_ sub_ mul_ div_ pow_ clamp_ exp_ log_ sqrt_ abs_ neg_ relu_ sigmoid_ tanh_ uniform_
normal_ bernoulli_ fill_diagonal_ unsqueeze_ squeeze_ t_ transpose_ new_zeros new_ones new_full new_empty
new_tensor __format__
add sub mul div pow neg exp log log1p sqrt rsqrt abs sign sin cos tan sinh cosh tanh sigmoid relu clamp clip
reciprocal floor ceil round trunc maximum minimum eq ne lt le gt ge isnan isinf logical_not where
sum mean std var prod max min amax amin argmax argmin cumsum norm logsumexp all any topk sort argsort median
nonzero unique softmax log_softmax matmul mm bmm dot outer chunk split unbind repeat tile flip roll tril triu
diag masked_select narrow
""".split()


def _public(mod):
    names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
    return sorted({n for n in names if not n.startswith("_") and not inspect.ismodule(getattr(mod, n, None))})


def _sections():
    import torch

    F = importlib.import_module("torch.nn.functional")
    nn_names = sorted(n for n in _public(torch.nn) if inspect.isclass(getattr(torch.nn, n, None)))
    f_names = sorted(n for n in _public(F) if callable(getattr(F, n, None)) and n[0].islower()
                     and getattr(getattr(F, n), "__module__", "").startswith("torch.nn"))
    optim_names = sorted(n for n in _public(torch.optim) if inspect.isclass(getattr(torch.optim, n, None)))
    sched = importlib.import_module("torch.optim.lr_scheduler")
    sched_names = sorted(n for n in _public(sched) if inspect.isclass(getattr(sched, n)) and n[0].isupper()
                         and getattr(sched, n).__module__ == sched.__name__ and not n.startswith("LRScheduler"))
    data = importlib.import_module("torch.utils.data")
    utils = importlib.import_module("torch.nn.utils")
    return [
        ("torch", "shendu", [n for n in TORCH_TEXTBOOK if hasattr(torch, n)]),
        ("torch.Tensor", "shendu.Tensor", [n for n in TENSOR_TEXTBOOK if hasattr(torch.Tensor, n)]),
        ("torch.nn", "shendu.nn", nn_names),
        ("torch.nn.functional", "shendu.nn.functional", f_names),
        ("torch.nn.utils", "shendu.nn.utils", [n for n in ("clip_grad_norm_", "clip_grad_value_",
                                                            "parameters_to_vector", "vector_to_parameters", "rnn")
                                               if hasattr(utils, n)]),
        ("torch.optim", "shendu.optim", optim_names),
        ("torch.optim.lr_scheduler", "shendu.optim.lr_scheduler", sched_names),
        ("torch.utils.data", "shendu.utils.data", [n for n in _public(data) if n[0] != "_"]),
    ]


def _resolve(path):
    try:
        return importlib.import_module(path)
    except ImportError:
        mod, _, attr = path.rpartition(".")
        return getattr(importlib.import_module(mod), attr, None)


def _tested_words():
    words = set()
    for folder, _, files in os.walk(os.path.join(ROOT, "tests")):
        for f in files:
            if f.endswith(".py"):
                text = open(os.path.join(folder, f), encoding="utf-8").read()
                if re.search(r"^\s*(import torch|torch = pytest.importorskip)", text, re.M):
                    words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return words


def build() -> str:
    sys.path.insert(0, os.path.join(ROOT, "src"))
    import torch

    tested = _tested_words()
    lines = [
        "# PyTorch compatibility table",
        "",
        f"Generated by `tools/compat_table.py` from torch {torch.__version__.split('+')[0]}; do not edit by hand.",
        "Present: shendu has the name at the same path. Tested: the name appears in a test that uses torch as",
        "its oracle. `torch` and `torch.Tensor` list a textbook-level subset; the other modules list all public",
        "names. Run programs written for PyTorch with `python -m shendu.torchcompat script.py args`.",
        "",
        "| module | names | present | tested |",
        "|---|---|---|---|",
    ]
    body = []
    for tname, sname, names in _sections():
        mod = _resolve(sname)
        rows = [(n, mod is not None and hasattr(mod, n), n in tested) for n in names]
        present = sum(p for _, p, _ in rows)
        lines.append(f"| `{tname}` | {len(rows)} | {present} | {sum(p and t for _, p, t in rows)} |")
        body += ["", f"## `{tname}` -> `{sname}`", "", "| name | present | tested |", "|---|---|---|"]
        body += [f"| `{n}` | {'yes' if p else '**no**'} | {'yes' if p and t else ''} |" for n, p, t in rows]
    return "\n".join(lines + body) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/compat.md is out of date")
    args = ap.parse_args(argv)
    text = build()
    if args.check:
        current = open(OUT, encoding="utf-8").read() if os.path.exists(OUT) else ""
        if current != text:
            print("docs/compat.md is out of date: run tools/compat_table.py", file=sys.stderr)
            return 1
        return 0
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
