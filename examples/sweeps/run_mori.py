"""The Mori et al. escape-rate sweep from Python, on a local Dask cluster (2 worker processes).

    python examples/sweeps/run_mori.py [--scheduler tcp://host:8786]

Re-running skips finished points; the table is examples/sweeps/mori_escape_results/results.parquet
(or .csv without pyarrow), the plot mori_escape_results/plots/mori_escape.png.

Dask starts its worker processes with "spawn", which re-imports this file in each of them: the
sweep must run under ``if __name__ == "__main__"``.
"""
import argparse
from pathlib import Path

import fpsolve.sweeps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scheduler", help="a running Dask scheduler (default: a LocalCluster)")
    args = ap.parse_args()
    result = fpsolve.sweeps.run(Path(__file__).parent / "mori_escape.toml",
                               scheduler=args.scheduler, progress=True)
    print(result.summary())
    rows = [r for r in result.rows if r["status"] == "ok"]
    for r in sorted(rows, key=lambda r: (r["loss_name"], r["batch_size"] / r["lr"])):
        print(f"{r['loss_name']:12s} B/η = {r['batch_size'] / r['lr']:6.2f}  "
              f"κ = λ₁/2 = {r['escape_rate']:.4g}  Mori eq. (15) = {r['mori_rate']:.4g}  "
              f"ratio {r['escape_rate'] / r['mori_rate']:.3f}")
    for p in result.plots:
        print("plot:", p)


if __name__ == "__main__":
    main()
