"""The quadratic integrate-and-fire passage time (fpsolve.theory.qif_passage_time) against
independent references: the 1D MFPT quadrature with a natural end at −∞ (theory.mfpt_1d, other
code), and the analytic limits D → 0 (deterministic period, Kramers' law) and x₀ → ∞."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import InputError
from fpsolve.theory import qif_passage_time


def qif_drift(mu):
    return lambda x: x * x + mu


@pytest.mark.parametrize("x0", [-3.0, 0.0, 1.0])
def test_differences_match_the_mfpt_quadrature_with_a_natural_end(x0):
    """E τ(x₀ → ∞) − E τ(c → ∞) = E τ(x₀ → c), reflecting (natural) at −∞: the log-space
    panels of mfpt_1d are a different code; both are quadratures to ~1e-12 (measured 4e-15)."""
    mu, D, c = 1.0, 0.5, 2.0
    lhs = qif_passage_time(mu, D, x0=x0).mean - qif_passage_time(mu, D, x0=c).mean
    rhs = float(fp.theory.mfpt_1d(x0, c, -np.inf, drift=qif_drift(mu), diffusion=D).mean)
    assert lhs == pytest.approx(rhs, rel=1e-11)


def test_deterministic_period_as_noise_vanishes():
    """μ > 0: E τ(−∞) → π/√μ, with a correction O(D²) (measured: −1.5e-3 at D = 0.1, halving D
    divides it by 3.9–4.0)."""
    err = [qif_passage_time(1.0, D).mean / np.pi - 1 for D in (0.025, 0.0125)]
    assert 3.9 < err[0] / err[1] < 4.1 and abs(err[1]) < 3e-5
    assert qif_passage_time(4.0, 1e-3).deterministic == pytest.approx(np.pi / 2, rel=1e-15)


def test_kramers_law_for_the_excitable_neuron():
    """μ = −a² < 0: wells at −a (U″ = 2a) and barrier at +a (|U″| = 2a), ΔU = 4a³/3, so
    E τ ≈ (π/a) e^(ΔU/D) with a relative correction O(D) (measured 5.3e-3 at D = 0.025, and
    halving D halves it: ratio 2.02)."""
    ref = [np.pi * np.exp(4 / (3 * D)) for D in (0.025, 0.0125)]
    r = [qif_passage_time(-1.0, D).mean / f - 1 for D, f in zip((0.025, 0.0125), ref)]
    assert 1.95 < r[0] / r[1] < 2.1 and 0 < r[1] < 3e-3


@pytest.mark.parametrize("x0", [10.0, 100.0, 4444.0, 1e5])
def test_far_start_is_the_deterministic_tail_plus_its_noise_correction(x0):
    """From x₀ ≫ 1: E τ = (π/2 − atan(x₀/√μ))/√μ · (1 + D/(2x₀³) + …) (τ₁ = 1/(2b²) of the
    expansion in D). x₀ = 4444 and 1e5 raised ZeroDivisionError before (the peak of the
    integrand, of width √D/x₀, was missed)."""
    mu, D = 1.0, 0.5
    det = (np.pi / 2 - np.arctan(x0 / np.sqrt(mu))) / np.sqrt(mu)
    rel = qif_passage_time(mu, D, x0=x0).mean / det - 1
    # next term O(D²/x₀⁶ + μD/x₀⁵): 1.5e-2 of D/(2x₀³) at x₀ = 10; round-off of det ~1e-11
    assert rel == pytest.approx(D / (2 * x0 ** 3), rel=3e-2, abs=2e-11)


@pytest.mark.parametrize("kw, match", [
    (dict(mu=np.nan, diffusion=1.0), "mu"),
    (dict(mu=1.0, diffusion=0.0), "diffusion"),
    (dict(mu=1.0, diffusion=1.0, x0=np.inf), "x0"),
])
def test_bad_input_raises(kw, match):
    with pytest.raises(InputError, match=match):
        qif_passage_time(**kw)
