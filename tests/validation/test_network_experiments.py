"""The papers' small-scale analogues, run tiny: structure, figures, and the invariants they rest
on (equal γ/M share the SDE time grid; the rank bound min(d, N − 1))."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="fpsolve.nets needs the optional torch extra")
pytestmark = pytest.mark.torch
pytest.importorskip("sklearn", reason="the experiments use load_digits (scikit-learn)")
pytest.importorskip("matplotlib", reason="the experiments draw matplotlib figures")

from fpsolve.validation import network_experiments as ex  # noqa: E402
from fpsolve.nets import load_digits  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return load_digits(n=96, seed=0)


def test_dai_zhu_equal_ratio_runs_share_sde_time(digits):
    out, fig = ex.dai_zhu_sharpness(((0.02, 16), (0.1, 16), (0.2, 32)), data=digits,
                                    widths=(64, 4, 10), epochs=2, n_repeats=1)
    a, b = "γ=0.1, M=16", "γ=0.2, M=32"
    # t per epoch = γ ⌊N/M⌋: 0.1·6 = 0.2·3
    np.testing.assert_allclose(out["t"][a], 0.6 * np.arange(3))
    np.testing.assert_allclose(out["t"][b], out["t"][a])
    assert all(np.all(np.isfinite(c)) and np.all(c > 0) for c in out["curve"].values())
    assert np.isfinite(out["equal_ratio_gap"]) and fig is not None


def test_xie_alignment_runs(digits):
    out, fig = ex.xie_alignment(data=digits, widths=(64, 3, 10), epochs=2, batch_size=16)
    assert out["n_params"] == 64 * 3 + 3 + 3 * 10 + 10
    assert -1 <= out["correlation"] <= 1 and out["ratio"] > 0 and 0 <= out["commutator"] < 1.5
    assert out["c_diagonal"].shape == (out["n_params"],) and fig is not None


def test_mori_noise_strength_tracks_loss(digits):
    out, fig = ex.mori_noise_vs_loss(data=digits, widths=(64, 8, 10), epochs=6, batch_size=16)
    assert len(out["loss"]) == 7 and np.all(out["noise_strength"] > 0)
    assert out["loss"][-1] < out["loss"][0] and fig is not None


def test_chaudhari_rank_bounded_by_samples(digits):
    out, fig = ex.chaudhari_spectrum(data=digits, widths=(64, 4, 10), epochs=3, rank_every=1,
                                     fractions=(0.5, 1.0))
    assert out["max_rank"] == min(out["n_params"], 95)
    for snap in out["snapshots"].values():
        assert max(snap["rank"].values()) <= out["max_rank"]
        lam = snap["eigenvalues"]
        assert np.all(np.diff(lam) <= 0)
        assert snap["eig_mean"] == pytest.approx(lam.sum() / out["n_params"])
    np.testing.assert_array_equal(out["rank_epoch"], np.arange(4))
    assert fig is not None
