"""The Bernoulli function and the logarithmic mean against direct formulas."""
import math

import numpy as np
import pytest

from fpsolve.numerics.flux import log_bernoulli, log_mean


@pytest.mark.parametrize("z", [-700.0, -30.0, -1.0, -0.02, -1e-6, 1e-9, 0.009, 0.5, 3.0, 40.0,
                               700.0])
def test_log_bernoulli_matches_50_digit_reference(z):
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    zd = Decimal(z)
    ref = float((zd / (zd.exp() - 1)).ln())
    assert log_bernoulli(z) == pytest.approx(ref, rel=1e-14, abs=1e-300)
    assert log_bernoulli(0.0) == 0.0


def test_bernoulli_ratio_is_exponential():
    # B(−z)/B(z) = e^z exactly: the identity behind the exact discrete stationary state
    for z in np.linspace(-50, 50, 101):
        assert log_bernoulli(-z) - log_bernoulli(z) == pytest.approx(z, abs=1e-12 * max(1, abs(z)))


@pytest.mark.parametrize("a,b", [(1.0, 2.0), (3.0, 3.0), (1.0, 1.0 + 1e-9), (1e-3, 5.0)])
def test_log_mean(a, b):
    ref = a if a == b else (b - a) / (math.log(b) - math.log(a))
    assert log_mean(a, b) == pytest.approx(ref, rel=1e-12)
