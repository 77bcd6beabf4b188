"""The command line: ``fpsolve solve`` on the example problems (numbers against independent
references), clear errors with exit status 2 for bad problem files, ``fpsolve info``, and one
real ``fpsolve validate`` through a subprocess."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.integrate as si

import fpsolve as fp
from fpsolve.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "problems"


def _summary(out):
    return json.loads((out / "summary.json").read_text())


def test_solve_double_well_against_quadrature(tmp_path, capsys):
    out = tmp_path / "dw"
    assert main(["solve", str(EXAMPLES / "double_well.toml"), "--out", str(out)]) == 0
    assert "stationary" in capsys.readouterr().out
    res = _summary(out)["result"]
    # symmetric U and D: mean 0; variance from p ∝ D⁻¹ exp(−∫U′/D) by quadrature, with the
    # closed form ∫U′/D = (x²/2 − log(1 + x²))/D0 for U′ = x³ − x, D = D0(1 + x²)
    D0 = 0.05

    def w(x):
        return np.exp(-(x ** 2 / 2 - np.log1p(x ** 2)) / D0) / (D0 * (1 + x ** 2))

    Z = si.quad(w, -2.5, 2.5, points=[-1, 1], epsabs=0, epsrel=1e-12)[0]
    var = si.quad(lambda x: x * x * w(x), -2.5, 2.5, points=[-1, 1], epsabs=0,
                  epsrel=1e-12)[0] / Z
    assert abs(res["mean"][0]) < 1e-12
    # O(h²) with h = 5/400 and well width ℓ = sqrt(D(1)/U″(1)) ≈ 0.22: (h/ℓ)²/4 ≈ 8e-4
    assert res["var"] == pytest.approx(var, rel=8e-4)
    p = fp.Density.load(out / "stationary.npz")
    assert p.grid.shape == (400,) and p.mass == pytest.approx(1.0, abs=1e-12)
    assert (out / "stationary.png").stat().st_size > 1000


def test_solve_ou_spectrum_example(tmp_path):
    out = tmp_path / "ou"
    assert main(["solve", str(EXAMPLES / "ou_spectrum.toml"), "--out", str(out)]) == 0
    lam = np.array(_summary(out)["result"]["eigenvalues"])
    exact = [0.0, 1.0, 2.0, 2.5, 3.0, 3.5]  # n₁k₁ + n₂k₂, k = (1, 2.5)
    # O(h²): (n+1)h²/(12σ²) with h = 10/128 and σ² = D/k₂ = 0.2 gives ≤ 1.8e-2
    np.testing.assert_allclose(lam, exact, rtol=1.8e-2, atol=1e-9)


def test_solve_tilted_ring_example(tmp_path):
    out = tmp_path / "ring"
    assert main(["solve", str(EXAMPLES / "tilted_ring.toml"), "--out", str(out)]) == 0
    res = _summary(out)["result"]
    assert res["times"] == [0.1, 0.5, 2.0, 10.0]
    np.testing.assert_allclose(res["mass"], 1.0, atol=1e-12)
    assert res["min_value"] > -1e-12  # TR-BDF2 may undershoot by round-off only
    assert len([f for f in res["files"] if f.endswith(".npz")]) == 4


def test_solve_evolve_ou_transient(tmp_path):
    toml = tmp_path / "ou.toml"
    toml.write_text("""
[parameters]
k = 1.0
[grid]
bounds = [-7, 7]
shape = 300
[model]
potential = "k * x**2 / 2"
diffusion = 0.5
[question]
kind = "evolve"
p0 = "exp(-(x - 2)**2 / 0.1)"
times = [0.5, 1.0]
dt = 0.005
""")
    out = tmp_path / "o"
    assert main(["solve", str(toml), "--out", str(out)]) == 0
    res = _summary(out)["result"]
    p0 = fp.Density(fp.Grid([(-7, 7)], 300), np.exp(-(fp.Grid([(-7, 7)], 300).axes[0] - 2) ** 2
                                                     / 0.1))
    m0 = p0.mean()[0]
    # closed form m(t) = m₀ e^{−kt}; O(h²) + O(Δt²) errors, both < 1e-3
    np.testing.assert_allclose([m[0] for m in res["mean"]], m0 * np.exp(-np.array([0.5, 1.0])),
                               atol=1e-3)


GOOD = """
[grid]
bounds = [[-2, 2]]
shape = 50
[model]
potential = "x**2 / 2"
diffusion = 0.5
[question]
kind = "stationary"
"""


@pytest.mark.parametrize("edit, message", [
    (("[model]", "[model]\ncolour = 'red'"), "unknown key(s) 'colour'; allowed keys are "
                                              "potential, drift, diffusion"),
    (("[grid]", "[grids]"), "unknown key(s) 'grids'"),
    (('potential = "x**2 / 2"', 'potential = "x**2 / (2"'), "syntax error"),
    (('potential = "x**2 / 2"', 'potential = "x**2 + q"'), "unknown name 'q'"),
    (('potential = "x**2 / 2"', 'potential = "x**2 + y"'), "a 1D grid has coordinates x/x1"),
    (('potential = "x**2 / 2"', 'potential = "sqrt(x, x, x, x)"'), "does not evaluate"),
    (('potential = "x**2 / 2"', 'potential = "x.__class__"'), "not allowed"),
    (('potential = "x**2 / 2"', 'potential = "nosuchmodule:f"'), "cannot import module"),
    (("diffusion = 0.5", "diffusion = -0.1"), "diffusion must be positive"),
    (("diffusion = 0.5", 'diffusion = "0.5 - x**2"'), "diffusion must be positive"),
    (('kind = "stationary"', 'kind = "teleport"'),
     "kind 'teleport' is unknown; known kinds: stationary"),
    (('kind = "stationary"', 'kind = "spectrum"\nk = -3'), "k must be a positive integer"),
    (("shape = 50", "shape = 2"), "at least 3 cells"),
    (("shape = 50", 'shape = "many"'), "shape must be an integer"),
    (("[model]", "[model]\nboundary = 'sticky'"), "boundary 'sticky'"),
    (("[model]", "[model]\nconvention = 'klimontovich'"), "convention 'klimontovich'"),
    (("shape = 50", "shape = 50 ="), "not valid TOML"),
    (("[grid]", "[nogrid]"), "unknown key(s) 'nogrid'"),
])
def test_bad_problem_exits_2_with_clear_message(tmp_path, capsys, edit, message):
    toml = tmp_path / "bad.toml"
    toml.write_text(GOOD.replace(*edit, 1))
    assert main(["solve", str(toml), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3


def test_missing_problem_file_and_usage_errors(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "none.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["validate", "--jobs", "0"]) == 2
    assert main(["--help"]) == 0


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for name in ("fpsolve", "numpy", "scipy", "numba", "numba threading", "matplotlib", "torch"):
        assert name in out


def test_validate_subprocess(tmp_path):
    """The installed entry point end to end: one real core case, exit 0, report written."""
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "fpsolve.cli", "validate", "--quick", "--only",
                           "core/ou_eigenvalues", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "ou_eigenvalues" in proc.stdout and "holds" in proc.stdout
    data = json.loads((out / "results.json").read_text())
    assert [c["name"] for c in data["cases"]] == ["ou_eigenvalues"]
    assert data["cases"][0]["verdict"] == "holds"
    assert (out / "report.md").is_file() and (out / "report.html").is_file()


def test_solve_mfpt_question_against_quadrature(tmp_path):
    """The "mfpt" question: E τ(−1 → x ≥ 1) against fpsolve.theory's log-space quadrature
    (target edge at a face; O(h²) at h = 0.01)."""
    import json

    import fpsolve as fp
    from fpsolve.cli import main

    src = Path(__file__).resolve().parents[1] / "examples" / "problems" / "double_well_mfpt.toml"
    assert main(["solve", str(src), "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "summary.json").read_text())["result"]
    # the absorbing boundary sits at the first target cell's centre, x = 1.005
    ref = fp.theory.mfpt_1d(-1.0, 1.005, -2.0, potential_derivative=lambda x: x ** 3 - x,
                            diffusion=0.05).mean
    assert res["mfpt_from_start"] == pytest.approx(ref, rel=2e-3)


def test_solve_prints_the_mfpt_answer(tmp_path, capsys):
    src = EXAMPLES / "double_well_mfpt.toml"
    assert main(["solve", str(src), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    res = _summary(tmp_path)["result"]
    assert f"mfpt_from_start = {res['mfpt_from_start']:.6g}" in out
    assert f"max = {res['max']:.6g}" in out


TENSOR = """
[grid]
bounds = [[-2, 2], [-2, 2]]
shape = 32
[model]
potential = "(x**2 - 1)**2 / 4 + y**2 / 2"
diffusion = DIFFUSION
[question]
kind = "mfpt"
target = "x >= 1"
start = [-1.0, 0.0]
"""


def _tensor_D(x, y):
    return [[0.12 * (1 + 0.3 * y ** 2), 0.03 * np.tanh(x * y)],
            [0.03 * np.tanh(x * y), 0.08 * (1 + 0.3 * x ** 2)]]


@pytest.mark.parametrize("diffusion, reference", [
    ('"tensors:D"', _tensor_D),
    ('[["0.12*(1 + 0.3*y**2)", "0.03*tanh(x*y)"], ["0.03*tanh(x*y)", "0.08*(1 + 0.3*x**2)"]]',
     _tensor_D),
    ("[[0.1, 0.02], [0.02, 0.05]]", np.array([[0.1, 0.02], [0.02, 0.05]])),
])
def test_toml_tensor_diffusion(tmp_path, diffusion, reference):
    """A tensor D from TOML (module function, matrix of expressions, constant matrix) gives the
    same MFPT as the same tensor passed to the Python API (the TOML layer adds no numerics)."""
    (tmp_path / "tensors.py").write_text(
        "import numpy as np\n\ndef D(x, y):\n    return [[0.12 * (1 + 0.3 * y**2), 0.03 * "
        "np.tanh(x * y)], [0.03 * np.tanh(x * y), 0.08 * (1 + 0.3 * x**2)]]\n")
    toml = tmp_path / "tensor.toml"
    toml.write_text(TENSOR.replace("DIFFUSION", diffusion))
    assert main(["solve", str(toml), "--out", str(tmp_path / "out")]) == 0
    got = _summary(tmp_path / "out")["result"]["mfpt_from_start"]
    g = fp.Grid([(-2, 2), (-2, 2)], 32)
    model = fp.FokkerPlanck(g, potential=lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2,
                            diffusion=reference)
    ref = float(np.ravel(model.mean_first_passage_time(lambda x, y: x >= 1).at([[-1.0, 0.0]]))[0])
    assert got == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("diffusion, message", [
    ('"tensors:bad"', "it returned an array of shape (3, 32, 32)"),
    ("[[0.1, 0.02]]", "a tensor diffusion is a 2×2 matrix"),
    ("[[0.1, 0.2], [0.2, 0.1]]", "not positive definite"),
])
def test_toml_bad_tensor_diffusion(tmp_path, capsys, diffusion, message):
    (tmp_path / "tensors.py").write_text(
        "import numpy as np\n\ndef bad(x, y):\n    return np.ones((3,) + x.shape)\n")
    toml = tmp_path / "tensor.toml"
    toml.write_text(TENSOR.replace("DIFFUSION", diffusion))
    assert main(["solve", str(toml), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "[model]" in err and "Traceback" not in err, err


def test_toml_start_outside_the_grid_is_caught_before_the_solve(tmp_path, capsys):
    toml = tmp_path / "start.toml"
    toml.write_text(TENSOR.replace("DIFFUSION", "0.1").replace("start = [-1.0, 0.0]",
                                                               "start = [-1.0, 3.0]"))
    assert main(["solve", str(toml), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "[question] start = [-1.0, 3.0] lies outside the grid: coordinate 1 is 3" in err, err
    assert not (tmp_path / "out").exists()  # nothing was solved or written


def test_a_problem_too_large_for_the_machine_is_a_clear_error(tmp_path, capsys):
    """A huge grid: an estimate against the machine's memory before any allocation (the grid's
    coordinates are built lazily), exit status 2, no traceback."""
    toml = tmp_path / "huge.toml"
    toml.write_text(TENSOR.replace("bounds = [[-2, 2], [-2, 2]]", "bounds = [[-2, 2], [-2, 2], "
                                   "[-2, 2]]").replace("shape = 32", "shape = 5000")
                    .replace("DIFFUSION", "0.1").replace("start = [-1.0, 0.0]", "")
                    .replace('potential = "(x**2 - 1)**2 / 4 + y**2 / 2"', 'potential = "x**2"'))
    assert main(["solve", str(toml), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "needs about" in err and "GiB" in err and "coarser [grid] shape" in err, err
    assert "Traceback" not in err and "MemoryError" not in err
