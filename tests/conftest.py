import numpy as np
import pytest

import shendu as sd


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same global seed."""
    sd.manual_seed(0)
    yield
