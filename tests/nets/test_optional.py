"""torch, scikit-learn and matplotlib are optional: ``import fpsolve`` must not need them."""
import subprocess
import sys


def test_import_fpsolve_does_not_import_torch():
    code = ("import sys, fpsolve; "
            "bad = [m for m in ('torch', 'sklearn', 'matplotlib', 'fpsolve.nets') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
