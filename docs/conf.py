"""Sphinx configuration of fpsolve's documentation.

Build (offline; no validation run needed)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

To show the validation verdicts and figures on the theory pages, write a report first::

    fpsolve validate --quick --out docs/_build/validation

(or point ``FPSOLVE_VALIDATION_REPORT`` at any report directory).
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import fpsolve  # noqa: E402  (installed, e.g. pip install -e .)

project = "fpsolve"
author = "the fpsolve developers"
copyright = "the fpsolve developers, BSD-3-Clause"
release = fpsolve.__version__
version = ".".join(release.split(".")[:2])

# No napoleon: fpsolve's docstrings are numpydoc-like but free-form (prose after a Parameters
# block, "name : description" lines), which napoleon misreads as parameters and types.
# fpsolve_docs turns their section headers into rubrics and their entries into definition
# lists instead (see _ext/fpsolve_docs.py).
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "fpsolve_docs",
]

# The source tree: hand-written pages; the examples are included by literalinclude.
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]
templates_path = []
root_doc = "index"
language = "en"

# -- autodoc ----------------------------------------------------------------------------------
# torch and scikit-learn are optional: the API pages build without them.
autodoc_mock_imports = ["torch", "sklearn"]
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": False}  # members listed per module
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "both"

# -- validation report (see _ext/fpsolve_docs.py) ----------------------------------------------
fpsolve_validation_report = "_build/validation"

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"fpsolve {release}"
html_static_path = ["_static"]
html_css_files = ["fpsolve.css"]
html_theme_options = {
    "description": "Fokker–Planck dynamics of SGD",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
html_show_sourcelink = False
