"""``sd.viz.graph``: the autograd graph of a tensor as a Graphviz picture (textbook 6.5.1 computational graphs).

Ops are boxes (the Function's name), tensors ellipses labelled with their name (a parameter's name when
``params=dict(model.named_parameters())`` is passed, else ``Tensor.name``) and shape; leaves that need a
gradient are filled blue, constants grey, the output green. Edges follow the forward pass: tensor -> op ->
tensor. DOT text is always available; SVG/PNG need Graphviz's ``dot`` program.
"""
from __future__ import annotations

import shutil
import subprocess

__all__ = ["graph"]


def _esc(s):
    return str(s).replace("\\", "\\\\").replace('"', '\\"')


def _shape(t):
    return "(" + ", ".join(str(d) for d in t.shape) + ")"


def _dot(roots, params):
    from .autograd.tensor import Tensor

    names = {id(p): n for n, p in (params or {}).items()}
    lines = ["digraph autograd {", '  rankdir="TB";', '  node [fontname="Helvetica", fontsize=10];']
    tensor_ids, op_ids = {}, {}

    def tensor_node(t, role=None):
        key = ("fn", id(t._grad_fn), t._out_idx) if t._grad_fn is not None else ("leaf", id(t))
        if key in tensor_ids:
            return tensor_ids[key]
        nid = f"t{len(tensor_ids)}"
        tensor_ids[key] = nid
        label = names.get(id(t)) or t.name or ""
        if t._grad_fn is None:
            style = 'style=filled, fillcolor="lightblue"' if t._requires_grad else 'style=filled, fillcolor="lightgrey"'
            label = label or ("leaf" if t._requires_grad else "const")
        else:
            style = ""
        if role == "root":
            style = 'style=filled, fillcolor="palegreen"'
        text = _esc(f"{_shape(t)} {t.dtype}")
        text = f"{_esc(label)}\\n{text}" if label else text  # \n: DOT's line break
        lines.append(f'  {nid} [shape=ellipse, label="{text}"{", " + style if style else ""}];')
        return nid

    stack = []
    for r in roots:
        rid = tensor_node(r, "root")
        if r._grad_fn is not None:
            stack.append((r._grad_fn, rid))
    seen_edges = set()
    while stack:
        fn, out_id = stack.pop()
        first = id(fn) not in op_ids
        if first:
            op_ids[id(fn)] = f"op{len(op_ids)}"
            lines.append(f'  {op_ids[id(fn)]} [shape=box, style="rounded,filled", fillcolor="lightyellow", '
                         f'label="{_esc(type(fn).__name__)}"];')
        oid = op_ids[id(fn)]
        if (oid, out_id) not in seen_edges:
            seen_edges.add((oid, out_id))
            lines.append(f"  {oid} -> {out_id};")
        if not first:
            continue
        inputs = getattr(fn, "inputs", None)
        if inputs is None:
            raise RuntimeError("sd.viz.graph: the graph was freed by backward(); call graph() before backward() "
                               "or use backward(retain_graph=True)")
        for x in inputs:
            if not isinstance(x, Tensor):
                continue
            tid = tensor_node(x)
            if (tid, oid) not in seen_edges:
                seen_edges.add((tid, oid))
                lines.append(f"  {tid} -> {oid};")
            if x._grad_fn is not None:
                stack.append((x._grad_fn, tid))
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph(tensor, path=None, format="dot", params=None):
    """The autograd graph that produced ``tensor`` (or a list of tensors) as DOT text, SVG or PNG.

    ``format``: "dot" (returns the text), "svg"/"png" (returns bytes; needs Graphviz's ``dot`` on PATH).
    ``path``: also write the result there (atomically). ``params``: name -> parameter, e.g.
    ``dict(model.named_parameters())``, to label the leaves."""
    from .autograd.tensor import Tensor
    from .serialization import atomic_write_bytes

    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError(f"sd.viz.graph: expected a Tensor or a list of Tensors, got {type(tensor).__name__}")
    if all(r._grad_fn is None and not r._requires_grad for r in roots):
        raise ValueError("sd.viz.graph: the tensor has no autograd graph (it was computed under no_grad or from "
                         "tensors without requires_grad=True)")
    if format not in ("dot", "svg", "png"):
        raise ValueError(f"sd.viz.graph: format must be 'dot', 'svg' or 'png', got {format!r}")
    text = _dot(roots, params)
    if format == "dot":
        if path is not None:
            atomic_write_bytes(path, text.encode("utf-8"))
        return text
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(f"sd.viz.graph: format={format!r} needs Graphviz's 'dot' program, which is not on PATH; "
                           "install Graphviz (apt install graphviz / brew install graphviz) or use format='dot' "
                           "and render the text elsewhere")
    out = subprocess.run([exe, f"-T{format}"], input=text.encode("utf-8"), capture_output=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"sd.viz.graph: dot failed ({out.returncode}): {out.stderr.decode(errors='replace')}")
    if path is not None:
        atomic_write_bytes(path, out.stdout)
    return out.stdout
