"""sd.viz.graph: the autograd graph as Graphviz DOT (textbook 6.5.1)."""
import os
import re
import shutil

import numpy as np
import pytest

import shendu as sd
from shendu import nn


def _parse(dot):
    nodes = dict(re.findall(r'^\s+(\w+) \[(.*)\];$', dot, re.M))
    edges = re.findall(r'^\s+(\w+) -> (\w+);$', dot, re.M)
    return nodes, edges


def test_dot_structure_of_a_small_expression():
    x = sd.tensor([1.0, 2.0])
    w = sd.tensor([0.5, -1.0], requires_grad=True)
    b = sd.tensor(0.1, requires_grad=True)
    loss = (x * w + b).sigmoid().sum()  # 4 ops: mul, add, sigmoid, sum
    dot = sd.viz.graph(loss, params={"w": w, "b": b})
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    nodes, edges = _parse(dot)
    ops = {k: v for k, v in nodes.items() if "shape=box" in v}
    tensors = {k: v for k, v in nodes.items() if "shape=ellipse" in v}
    assert len(ops) == 4 and len(tensors) == 7  # x, w, b, x*w, +b, sigmoid, loss
    assert len(edges) == 10  # 6 tensor -> op (2 + 2 + 1 + 1) and 4 op -> tensor
    labels = " ".join(ops.values())
    for op in ("Mul", "Add", "Sigmoid", "Sum"):
        assert op in labels
    by_label = {v.split('label="')[1].split("\\n")[0]: k for k, v in tensors.items()}
    assert "w" in by_label and "b" in by_label and "const" in by_label
    assert "(2) float32" in tensors[by_label["w"]] and "lightblue" in tensors[by_label["w"]]
    assert "lightgrey" in tensors[by_label["const"]]
    root = [k for k, v in tensors.items() if "palegreen" in v]
    assert len(root) == 1 and "() float32" in tensors[root[0]]
    # every edge joins a tensor and an op, never two of a kind (a bipartite graph)
    assert all((a in ops) != (b_ in ops) for a, b_ in edges)
    # the leaf w feeds exactly the Mul op
    (dst,) = [d for s, d in edges if s == by_label["w"]]
    assert "Mul" in ops[dst]


def test_shared_subexpression_and_module_param_names(tmp_path):
    m = nn.Linear(3, 2)
    x = sd.tensor(np.ones((4, 3), np.float32))
    h = m(x)
    y = (h * h + h).mean()  # h is used three times but drawn once
    path = tmp_path / "g.dot"
    dot = sd.viz.graph(y, path=str(path), params=dict(m.named_parameters()))
    assert path.read_text() == dot
    nodes, edges = _parse(dot)
    assert sum("(4, 2) float32" in v and "palegreen" not in v for v in nodes.values()) == 3  # h, h*h, h*h+h
    assert 'label="weight\\n(2, 3) float32"' in dot and 'label="bias\\n(2) float32"' in dot
    (h_node,) = [d for s, d in edges if "LinearFn" in nodes[s]]
    assert len([d for s, d in edges if s == h_node]) == 2  # into Mul (h*h, one edge) and Add


def test_errors_and_svg_without_graphviz(monkeypatch):
    with pytest.raises(ValueError, match="no autograd graph"):
        sd.viz.graph(sd.tensor([1.0]) * 2)
    w = sd.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="format"):
        sd.viz.graph(w * 2, format="pdf")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Graphviz"):
        sd.viz.graph(w * 2, format="svg")


def test_svg_is_rendered_by_the_dot_program(tmp_path, monkeypatch):
    """With a ``dot`` on PATH (here a stand-in script that checks its input and answers an SVG), the DOT text is
    piped to ``dot -Tsvg`` and its output returned and written."""
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\n[ "$1" = "-Tsvg" ] || exit 3\ngrep -q "^digraph autograd" || exit 4\n'
                    'printf "<svg>ok</svg>"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    w = sd.tensor([1.0, 2.0], requires_grad=True)
    out = sd.viz.graph((w * w).sum(), path=tmp_path / "g.svg", format="svg")
    assert out == b"<svg>ok</svg>" and (tmp_path / "g.svg").read_bytes() == out
    with pytest.raises(RuntimeError, match="dot failed"):
        sd.viz.graph((w * w).sum(), format="png")  # the stand-in refuses -Tpng
