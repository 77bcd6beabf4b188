"""Sweeps on Dask (fpsolve.sweeps): resumable, failure-tolerant, one table; numbers checked
against independent references (quadrature of Mori et al.'s power law, a direct solve)."""
import json
import os

import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp
import fpsolve.sweeps as fs
from fpsolve.sweeps import cli as sweep_cli
from fpsolve.sweeps import spec as sweep_spec

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded in-process workers: starts in about a second."""
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                 dashboard_address=None)
    yield c
    c.close()


@pytest.fixture(scope="module")
def client(cluster):
    cl = distributed.Client(cluster)
    yield cl
    cl.close()


def mori_sweep(**axes):
    """η × B × potential = 8 points of Mori et al.'s loss-scaled noise on a 1D double well."""
    return {
        "name": "test",
        "quantities": ["spectral_gap", "escape_rate", "mean", "var", "mori_rate", "mfpt"],
        "grid": {"bounds": [[-2.0, 2.0]], "shape": 80},
        "model": {"loss": "dw", "lr": 0.1, "batch_size": 1,
                  "noise": {"kind": "LossScaled", "h_star": 2.0, "loss_offset": 0.05}},
        "potentials": {"dw": "(x**2 - 1)**2 / 4", "steep": "depth * (x**2 - 1)**2 / 4"},
        "params": {"depth": 2.0},
        "axes": axes or {"lr": [0.2, 0.4], "batch_size": [1, 2], "loss": ["dw", "steep"]},
    }


# -- specification -------------------------------------------------------------------------------
def test_points_are_the_product_keyed_by_the_resolved_problem():
    s = fs.Sweep.from_dict(mori_sweep())
    pts = s.points()
    assert len(pts) == 8 and len({p.key for p in pts}) == 8
    assert pts[0].values == {"lr": 0.2, "batch_size": 1, "loss": "dw"}
    assert pts[0].config["model"]["loss"] == "(x**2 - 1)**2 / 4"
    # the key depends on the problem only: same problem, same key; axis order is irrelevant
    d = mori_sweep()
    d["axes"] = {"loss": ["dw", "steep"], "batch_size": [1, 2], "lr": [0.2, 0.4]}
    assert {p.key for p in fs.Sweep.from_dict(d).points()} == {p.key for p in pts}
    # a changed base problem changes every key
    d = mori_sweep()
    d["grid"]["shape"] = 81
    assert not {p.key for p in fs.Sweep.from_dict(d).points()} & {p.key for p in pts}
    # dotted paths name the same columns
    d = mori_sweep(**{"model.lr": [0.2], "model.noise.h_star": [1.0, 2.0]})
    assert list(fs.Sweep.from_dict(d).axes) == ["lr", "noise_h_star"]


def test_bad_sweeps_are_rejected_with_a_reason():
    d = mori_sweep(**{"eta": [0.1]})
    with pytest.raises(fp.InputError, match="names nothing"):
        fs.Sweep.from_dict(d)
    d = mori_sweep()
    d["quantities"] = ["free_lunch"]
    with pytest.raises(fp.InputError, match="unknown quantities"):
        fs.Sweep.from_dict(d)
    d = mori_sweep()
    d["grid"]["bounds"] = [[-2.0, 2.0], [-1.0, 1.0]]   # 2D: no automatic landscape, no mfpt
    with pytest.raises(fp.InputError, match="1D only"):
        fs.Sweep.from_dict(d)
    for bad in ("__import__('os').system('true')", "x.real", "open('f')", "y + 1"):
        with pytest.raises(fp.InputError):
            sweep_spec.compile_expression(bad, 1, {}, "loss")
    f = sweep_spec.compile_expression("a * exp(-x**2)", 1, {"a": 2.0})
    assert f(np.array([0.0]))[0] == 2.0


# -- running ---------------------------------------------------------------------------------------
def test_interrupted_sweep_resumes_with_only_the_remaining_points(client, tmp_path):
    s = fs.Sweep.from_dict(mori_sweep())
    first = fs.run(s, out=tmp_path, client=client, max_points=3, plots=False)
    assert len(first.computed) == 3 and len(first.pending) == 5 and not first.complete
    assert len(first.read_table()) == 3
    stamps = {k: os.stat(tmp_path / "points" / f"{k}.json").st_mtime_ns for k in first.computed}

    second = fs.run(s, out=tmp_path, client=client)
    assert sorted(second.skipped) == sorted(first.computed)
    assert sorted(second.computed) == sorted(first.pending)          # only the rest ran
    assert second.complete and not second.failed
    table = second.read_table()
    assert len(table) == 8 and {r["key"] for r in table} == {p.key for p in s.points()}
    assert second.table.suffix == ".parquet"
    for k, t in stamps.items():                                      # finished rows untouched
        assert os.stat(tmp_path / "points" / f"{k}.json").st_mtime_ns == t
    assert [p.name for p in second.plots] == ["mori.png"]

    third = fs.run(s, out=tmp_path, client=client, plots=False)
    assert third.computed == [] and len(third.skipped) == 8


def test_point_values_against_independent_references(client, tmp_path):
    """Stationary variance vs quadrature of p ∝ (L + L*)^(−φ), φ = 1 + B/(ηh) (Mori eq. 17);
    the MFPT vs its 1D quadrature; the spectral gap vs a direct fpsolve solve; the escape rate
    vs eq. (15) within its asymptotic error."""
    res = fs.run(mori_sweep(lr=[0.1], batch_size=[1], loss=["dw"]), out=tmp_path,
                 client=client, plots=False)
    (row,) = res.rows
    assert row["status"] == "ok" and row["gap_resolved"]
    L = lambda x: (x ** 2 - 1) ** 2 / 4 + 0.05
    phi = 1 + 1 / (0.1 * 2.0)
    Z = integrate.quad(lambda x: L(x) ** -phi, -2, 2, points=[-1, 1], epsabs=1e-14)[0]
    var = integrate.quad(lambda x: x ** 2 * L(x) ** -phi, -2, 2, points=[-1, 1],
                         epsabs=1e-14)[0] / Z
    h = 4 / 80
    assert row["var"] == pytest.approx(var, rel=10 * h ** 2)          # second order in h
    assert abs(row["mean"]) < 1e-12                                 # symmetric well
    g = fp.Grid([(-2, 2)], 80)
    direct = fp.sgd.model(g, lambda x: (x ** 2 - 1) ** 2 / 4, 0.1, 1,
                          fp.noise.LossScaled(2.0, 0.05)).spectral_gap()
    assert row["spectral_gap"] == pytest.approx(direct, rel=1e-10)
    assert row["escape_rate"] == pytest.approx(direct / 2, rel=1e-10)
    # Mori eq. (15) by hand: sqrt(h_e|h_s|)/(2π) (L_s/L*)^−(B/(ηh) + 1/2), h_e = 2, h_s = −1
    mori = np.sqrt(2.0) / (2 * np.pi) * (0.30 / 0.05) ** -(1 / 0.2 + 0.5)
    assert row["mori_rate"] == pytest.approx(mori, rel=1e-6)
    assert row["escape_rate"] == pytest.approx(mori, rel=0.15)       # asymptotic in η/B
    # E τ from −1 to +1 (reflecting at −2), THEORY §1 quadrature with e^Φ = (L + L*)^(B/(ηh)):
    # E τ = ∫₋₁¹ dy (L + L*)^β(y) ∫₋₂ʸ dz (L + L*)^−β(z) / D(z),  β = B/(ηh), D = (η/B)(L + L*)h
    beta, D = 1 / (0.1 * 2.0), lambda z: 0.1 * L(z) * 2.0
    tau = integrate.dblquad(lambda z, y: (L(y) / L(z)) ** beta / D(z), -1, 1, -2,
                            lambda y: y, epsabs=1e-12, epsrel=1e-10)[0]
    assert row["mfpt"] == pytest.approx(tau, rel=10 * h ** 2)


def test_a_failing_point_is_recorded_and_not_fatal(client, tmp_path):
    s = mori_sweep(batch_size=[2, -1])   # B = −1 is rejected by fpsolve.sgd.model
    res = fs.run(s, out=tmp_path, client=client, plots=False, table_format="csv")
    assert res.complete and len(res.rows) == 2 and len(res.failed) == 1
    bad = next(r for r in res.rows if r["status"] == "error")
    good = next(r for r in res.rows if r["status"] == "ok")
    assert "batch_size must be a whole number" in bad["error"] and bad["traceback"]
    assert good["spectral_gap"] > 0
    table = res.read_table()
    assert res.table.suffix == ".csv" and len(table) == 2
    assert {r["status"] for r in table} == {"ok", "error"}
    # a failed point counts as finished unless asked to retry
    assert fs.run(s, out=tmp_path, client=client, plots=False).computed == []
    again = fs.run(s, out=tmp_path, client=client, plots=False, retry_failed=True)
    assert again.computed == [bad["key"]]


def test_cli_resumes_and_reports(cluster, tmp_path, capsys):
    toml = tmp_path / "sweep.toml"
    toml.write_text("""
quantities = ["spectral_gap", "kramers_rate", "escape_rate"]
[grid]
bounds = [[-2.0, 2.0]]
shape = 60
[model]
loss = "(x**2 - 1)**2 / 4"
lr = 0.1
batch_size = 1
[model.noise]
kind = "WhiteNoise"
D = 0.1
[axes]
noise_D = [0.08, 0.1]
""")
    out = tmp_path / "out"
    args = [str(toml), "--scheduler", cluster.scheduler_address, "--out", str(out), "--quiet"]
    assert sweep_cli.main(args + ["--max-points", "1"]) == 1         # one point left: status 1
    assert sweep_cli.main(args) == 0
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["finished"] == 2 and manifest["failed"] == 0
    assert (out / "plots" / "kramers.png").is_file()
    rows = fs.read_table(out / "results.parquet")
    for r in rows:  # Kramers' law at ΔL/D = 2.5…3: within ~15% of λ₁/2
        assert r["escape_rate"] == pytest.approx(r["kramers_rate"], rel=0.2)
    capsys.readouterr()
    assert sweep_cli.main([str(toml), "--out", str(out), "--dry-run"]) == 0
    assert capsys.readouterr().out.count(" ok ") == 2
    assert sweep_cli.main([str(tmp_path / "missing.toml")]) == 2


@pytest.mark.slow
def test_run_on_a_default_local_cluster_of_processes(tmp_path):
    """The default path: a LocalCluster of 2 worker processes started and closed by the run."""
    d = mori_sweep(lr=[0.2, 0.4])
    res = fs.run(d, out=tmp_path, n_workers=2, processes=True, plots=False)
    assert res.complete and not res.failed and len(res.rows) == 2
    assert len({r["worker"] for r in res.rows}) >= 1
