"""Load an example script of examples/regularization as a module: ``load_example(name)``."""
from functools import partial

from .._helpers import load_example as _load_example

load_example = partial(_load_example, "regularization")
