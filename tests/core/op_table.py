"""One table of differentiable ops, shared by the gradcheck and PyTorch-oracle tests.

Each case: (id, shendu fn, torch fn or None, input shapes, domain) where domain is
'any', 'pos' (positive inputs), 'unit' (inside (-1, 1)) or 'distinct' (well separated values)."""
import numpy as np

import shendu as sd


def _t(f):
    return f


CASES = [
    # arithmetic with broadcasting
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)], "any"),
    ("add_bcast_both", lambda a, b: a + b, lambda a, b: a + b, [(3, 1), (1, 4)], "any"),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [(2, 3, 4), (3, 1)], "any"),
    ("rsub_scalar", lambda a: 2.5 - a, lambda a: 2.5 - a, [(3, 4)], "any"),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [(3, 4), (3, 4)], "any"),
    ("mul_bcast", lambda a, b: a * b, lambda a, b: a * b, [(2, 1, 4), (3, 1)], "any"),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (4,)], "pos"),
    ("rdiv_scalar", lambda a: 1.5 / a, lambda a: 1.5 / a, [(3, 4)], "pos"),
    ("neg", lambda a: -a, lambda a: -a, [(5,)], "any"),
    ("pow_scalar", lambda a: a**3, lambda a: a**3, [(3, 4)], "any"),
    ("pow_frac", lambda a: a**0.5, lambda a: a**0.5, [(3, 4)], "pos"),
    ("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, [(3, 4), (4,)], "pos"),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [(3,)], "any"),
    # unary math
    ("abs", sd.abs, lambda a: a.abs(), [(4, 5)], "distinct"),
    ("exp", sd.exp, lambda a: a.exp(), [(3, 4)], "any"),
    ("log", sd.log, lambda a: a.log(), [(3, 4)], "pos"),
    ("log1p", sd.log1p, lambda a: a.log1p(), [(3, 4)], "pos"),
    ("expm1", sd.expm1, lambda a: a.expm1(), [(3, 4)], "any"),
    ("sqrt", sd.sqrt, lambda a: a.sqrt(), [(3, 4)], "pos"),
    ("rsqrt", sd.rsqrt, lambda a: a.rsqrt(), [(3, 4)], "pos"),
    ("square", sd.square, lambda a: a.square(), [(3, 4)], "any"),
    ("sin", sd.sin, lambda a: a.sin(), [(3, 4)], "any"),
    ("cos", sd.cos, lambda a: a.cos(), [(3, 4)], "any"),
    ("tanh", sd.tanh, lambda a: a.tanh(), [(3, 4)], "any"),
    ("sigmoid", sd.sigmoid, lambda a: a.sigmoid(), [(3, 4)], "any"),
    ("relu", sd.relu, lambda a: a.relu(), [(3, 4)], "distinct"),
    ("softplus", sd.softplus, lambda a: __import__("torch").nn.functional.softplus(a), [(3, 4)], "any"),
    (
        "softplus_beta",
        lambda a: sd.softplus(a, beta=2.0, threshold=3.0),
        lambda a: __import__("torch").nn.functional.softplus(a, beta=2.0, threshold=3.0),
        [(3, 4)],
        "distinct",
    ),
    ("clamp", lambda a: sd.clamp(a, -0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), [(4, 5)], "distinct"),
    ("clamp_min", lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), [(4, 5)], "distinct"),
    ("maximum", sd.maximum, lambda a, b: __import__("torch").maximum(a, b), [(3, 4), (4,)], "distinct"),
    ("minimum", sd.minimum, lambda a, b: __import__("torch").minimum(a, b), [(3, 4), (3, 4)], "distinct"),
    (
        "where",
        lambda a, b: sd.where(a > 0, a, b),
        lambda a, b: __import__("torch").where(a > 0, a, b),
        [(3, 4), (4,)],
        "distinct",
    ),
    # linear algebra
    ("matmul_2d", sd.matmul, lambda a, b: a @ b, [(3, 4), (4, 5)], "any"),
    ("matmul_batched", sd.matmul, lambda a, b: a @ b, [(2, 3, 4), (2, 4, 5)], "any"),
    ("matmul_bcast", sd.matmul, lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], "any"),
    ("matmul_vec_mat", sd.matmul, lambda a, b: a @ b, [(4,), (2, 4, 3)], "any"),
    ("matmul_mat_vec", sd.matmul, lambda a, b: a @ b, [(2, 3, 4), (4,)], "any"),
    ("matmul_vec_vec", sd.matmul, lambda a, b: a @ b, [(4,), (4,)], "any"),
    ("dot", sd.dot, lambda a, b: a.dot(b), [(5,), (5,)], "any"),
    ("outer", sd.outer, lambda a, b: __import__("torch").outer(a, b), [(3,), (4,)], "any"),
    (
        "einsum_bmm",
        lambda a, b: sd.einsum("bij,bjk->bik", a, b),
        lambda a, b: __import__("torch").einsum("bij,bjk->bik", a, b),
        [(2, 3, 4), (2, 4, 5)],
        "any",
    ),
    (
        "einsum_sum_out",
        lambda a, b: sd.einsum("ij,jk->i", a, b),
        lambda a, b: __import__("torch").einsum("ij,jk->i", a, b),
        [(3, 4), (4, 5)],
        "any",
    ),
    (
        "einsum_ellipsis",
        lambda a, b: sd.einsum("...ij,...j->...i", a, b),
        lambda a, b: __import__("torch").einsum("...ij,...j->...i", a, b),
        [(2, 3, 4), (2, 4)],
        "any",
    ),
    (
        "einsum_three",
        lambda a, b, c: sd.einsum("ij,jk,kl->il", a, b, c),
        lambda a, b, c: __import__("torch").einsum("ij,jk,kl->il", a, b, c),
        [(2, 3), (3, 4), (4, 2)],
        "any",
    ),
    # reductions
    ("sum_all", lambda a: a.sum(), lambda a: a.sum(), [(3, 4)], "any"),
    ("sum_dim", lambda a: a.sum(dim=1), lambda a: a.sum(dim=1), [(3, 4, 2)], "any"),
    (
        "sum_dims_keep",
        lambda a: a.sum(dim=(0, 2), keepdim=True),
        lambda a: a.sum(dim=(0, 2), keepdim=True),
        [(3, 4, 2)],
        "any",
    ),
    (
        "sum_axis_kw",
        lambda a: sd.sum(a, axis=-1, keepdims=True),
        lambda a: a.sum(dim=-1, keepdim=True),
        [(3, 4)],
        "any",
    ),
    ("mean", lambda a: a.mean(dim=0), lambda a: a.mean(dim=0), [(3, 4)], "any"),
    ("mean_all", lambda a: a.mean(), lambda a: a.mean(), [(3, 4)], "any"),
    ("var", lambda a: a.var(dim=1), lambda a: a.var(dim=1), [(3, 5)], "any"),
    ("var_biased", lambda a: a.var(dim=1, unbiased=False), lambda a: a.var(dim=1, unbiased=False), [(3, 5)], "any"),
    ("std", lambda a: a.std(), lambda a: a.std(), [(3, 5)], "any"),
    ("prod", lambda a: a.prod(dim=1), lambda a: a.prod(dim=1), [(3, 4)], "any"),
    ("prod_all", lambda a: a.prod(), lambda a: a.prod(), [(2, 3)], "any"),
    ("amax", lambda a: a.amax(dim=1), lambda a: a.amax(dim=1), [(3, 4)], "distinct"),
    ("amin_all", lambda a: a.amin(), lambda a: a.amin(), [(3, 4)], "distinct"),
    ("max_all", lambda a: a.max(), lambda a: a.max(), [(3, 4)], "distinct"),
    ("max_dim", lambda a: a.max(dim=1)[0], lambda a: a.max(dim=1)[0], [(3, 4)], "distinct"),
    (
        "min_dim_keep",
        lambda a: a.min(dim=0, keepdim=True)[0],
        lambda a: a.min(dim=0, keepdim=True)[0],
        [(3, 4)],
        "distinct",
    ),
    ("logsumexp", lambda a: a.logsumexp(dim=1), lambda a: a.logsumexp(dim=1), [(3, 4)], "any"),
    (
        "logsumexp_keep",
        lambda a: sd.logsumexp(a, dim=0, keepdim=True),
        lambda a: a.logsumexp(dim=0, keepdim=True),
        [(3, 4)],
        "any",
    ),
    ("cumsum", lambda a: a.cumsum(dim=1), lambda a: a.cumsum(dim=1), [(3, 4)], "any"),
    ("norm2", lambda a: a.norm(), lambda a: a.norm(), [(3, 4)], "any"),
    ("norm2_dim", lambda a: a.norm(dim=1), lambda a: a.norm(dim=1), [(3, 4)], "any"),
    ("norm1", lambda a: a.norm(p=1, dim=0), lambda a: a.norm(p=1, dim=0), [(3, 4)], "distinct"),
    ("norm_inf", lambda a: a.norm(p=float("inf")), lambda a: a.norm(p=float("inf")), [(3, 4)], "distinct"),
    ("norm3", lambda a: a.norm(p=3, dim=1), lambda a: a.norm(p=3, dim=1), [(3, 4)], "distinct"),
    ("softmax", lambda a: a.softmax(dim=1), lambda a: a.softmax(dim=1), [(3, 4)], "any"),
    ("softmax_dim0", lambda a: sd.softmax(a, dim=0), lambda a: a.softmax(dim=0), [(3, 4, 2)], "any"),
    ("log_softmax", lambda a: a.log_softmax(dim=-1), lambda a: a.log_softmax(dim=-1), [(3, 4)], "any"),
    # shape
    ("reshape", lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [(3, 4)], "any"),
    ("view_neg1", lambda a: a.view(-1, 2), lambda a: a.reshape(-1, 2), [(3, 4)], "any"),
    ("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1), [(2, 3, 4)], "any"),
    ("squeeze", lambda a: a.squeeze(1), lambda a: a.squeeze(1), [(3, 1, 4)], "any"),
    ("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), [(3, 4)], "any"),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [(2, 3, 4)], "any"),
    ("T", lambda a: a.T, lambda a: a.T, [(3, 4)], "any"),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [(2, 3, 4)], "any"),
    ("expand", lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4), [(3, 1)], "any"),
    ("broadcast_to", lambda a: sd.broadcast_to(a, (2, 3, 4)), lambda a: a.broadcast_to((2, 3, 4)), [(4,)], "any"),
    (
        "cat",
        lambda a, b: sd.cat([a, b, a], dim=1),
        lambda a, b: __import__("torch").cat([a, b, a], dim=1),
        [(2, 3), (2, 2)],
        "any",
    ),
    (
        "stack",
        lambda a, b: sd.stack([a, b], dim=1),
        lambda a, b: __import__("torch").stack([a, b], dim=1),
        [(2, 3), (2, 3)],
        "any",
    ),
    (
        "split",
        lambda a: sd.split(a, 2, dim=1)[1] * 2 + sd.split(a, 2, dim=1)[0],
        lambda a: a.split(2, dim=1)[1] * 2 + a.split(2, dim=1)[0],
        [(3, 4)],
        "any",
    ),
    ("split_sizes", lambda a: a.split([1, 3], dim=1)[1], lambda a: a.split([1, 3], dim=1)[1], [(3, 4)], "any"),
    ("chunk", lambda a: a.chunk(3, dim=0)[2], lambda a: a.chunk(3, dim=0)[2], [(5, 2)], "any"),
    (
        "pad",
        lambda a: sd.pad(a, (1, 2, 0, 1), value=0.5),
        lambda a: __import__("torch").nn.functional.pad(a, (1, 2, 0, 1), value=0.5),
        [(2, 3, 4)],
        "any",
    ),
    ("repeat", lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [(3, 2)], "any"),
    ("tile", lambda a: a.tile(2, 2), lambda a: a.tile((2, 2)), [(3, 2)], "any"),
    (
        "repeat_interleave",
        lambda a: a.repeat_interleave(2, dim=1),
        lambda a: a.repeat_interleave(2, dim=1),
        [(3, 2)],
        "any",
    ),
    ("flip", lambda a: a.flip((0, 1)), lambda a: a.flip((0, 1)), [(3, 4)], "any"),
    ("roll", lambda a: a.roll(1, 1), lambda a: a.roll(1, 1), [(3, 4)], "any"),
    ("roll_flat", lambda a: sd.roll(a, 2), lambda a: a.roll(2), [(3, 4)], "any"),
    # indexing
    ("getitem_basic", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(4, 5)], "any"),
    ("getitem_int", lambda a: a[1, :, 0], lambda a: a[1, :, 0], [(3, 4, 2)], "any"),
    ("getitem_none_ellipsis", lambda a: a[..., None, 1], lambda a: a[..., None, 1], [(3, 4)], "any"),
    ("getitem_intarray_repeat", lambda a: a[np.array([0, 2, 0, 0])], lambda a: a[[0, 2, 0, 0]], [(3, 4)], "any"),
    (
        "getitem_2arrays",
        lambda a: a[np.array([0, 1, 1]), np.array([2, 0, 2])],
        lambda a: a[[0, 1, 1], [2, 0, 2]],
        [(3, 4)],
        "any",
    ),
    ("getitem_bool", lambda a: a[a > 0], lambda a: a[a > 0], [(3, 4)], "distinct"),
    (
        "gather",
        lambda a: a.gather(1, sd.tensor(np.array([[0, 0], [1, 0], [3, 2]]))),
        lambda a: a.gather(1, __import__("torch").tensor([[0, 0], [1, 0], [3, 2]])),
        [(3, 4)],
        "any",
    ),
    (
        "scatter_add",
        lambda a, s: a.scatter_add(1, sd.tensor(np.array([[0, 0], [1, 0], [3, 3]])), s),
        lambda a, s: a.scatter_add(1, __import__("torch").tensor([[0, 0], [1, 0], [3, 3]]), s),
        [(3, 4), (3, 2)],
        "any",
    ),
    (
        "index_add",
        lambda a, s: a.index_add(0, sd.tensor(np.array([0, 2, 0])), s),
        lambda a, s: a.index_add(0, __import__("torch").tensor([0, 2, 0]), s),
        [(3, 4), (3, 4)],
        "any",
    ),
    (
        "index_select",
        lambda a: a.index_select(1, sd.tensor(np.array([3, 0, 3]))),
        lambda a: a.index_select(1, __import__("torch").tensor([3, 0, 3])),
        [(3, 4)],
        "any",
    ),
    ("masked_fill", lambda a: a.masked_fill(a > 0, 0.25), lambda a: a.masked_fill(a > 0, 0.25), [(3, 4)], "distinct"),
    # composite: a small network and a value used by several consumers
    (
        "mlp",
        lambda x, w1, w2: (sd.tanh(x @ w1) @ w2).softmax(-1),
        lambda x, w1, w2: ((x @ w1).tanh() @ w2).softmax(-1),
        [(4, 3), (3, 5), (5, 2)],
        "any",
    ),
    (
        "fanout",
        lambda x: x * x + sd.exp(x) * x - x.sum() * x,
        lambda x: x * x + x.exp() * x - x.sum() * x,
        [(3, 2)],
        "any",
    ),
]


def make_inputs(shapes, domain, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    out = []
    for k, s in enumerate(shapes):
        if domain == "pos":
            a = rng.uniform(0.5, 2.0, s)
        elif domain == "unit":
            a = rng.uniform(-0.9, 0.9, s)
        elif domain == "distinct":
            n = int(np.prod(s)) if s else 1
            vals = (rng.permutation(n) - n / 2 + 0.5) * 0.37 + 0.11 * k
            a = vals.reshape(s)
        else:
            a = rng.standard_normal(s)
        out.append(np.asarray(a, dtype=dtype))
    return out
