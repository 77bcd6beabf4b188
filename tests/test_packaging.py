"""setup.cfg lists packages explicitly (validation/ is mapped to fpsolve.validation): every
package directory must be listed, or a non-editable install would silently miss it."""
import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = {p.strip() for p in cfg["options"]["packages"].split() if p.strip()}
    found = {".".join(d.relative_to(ROOT).parts) for d in (ROOT / "fpsolve").rglob("*")
             if d.is_dir() and (d / "__init__.py").exists()} | {"fpsolve"}
    found |= {"fpsolve.validation" + "".join("." + p for p in d.relative_to(ROOT / "validation").parts)
              for d in [ROOT / "validation", *(ROOT / "validation").rglob("*")]
              if d.is_dir() and (d / "__init__.py").exists()}
    assert found - listed == set(), f"add these to setup.cfg [options] packages: {found - listed}"


def test_core_imports_without_torch():
    import subprocess
    import sys
    code = ("import sys; sys.modules['torch'] = None; import fpsolve; "
            "fpsolve.FokkerPlanck(fpsolve.Grid([(0, 1)], 8), diffusion=1.0)")
    subprocess.run([sys.executable, "-c", code], check=True)
