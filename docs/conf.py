"""Sphinx configuration of fpsolve's documentation.

Build (offline, strict: every reference resolved, every warning an error)::

    pip install -e ".[docs]"
    python -m sphinx -n -W --keep-going -b html docs docs/_build/html

The build runs the gallery's examples (``docs/examples/``) at their small size
(``FPSOLVE_EXAMPLE_SMALL=1``, a few seconds each); ``-D plot_gallery=0`` skips running them.
To show the validation verdicts and figures on the theory pages, write a report first::

    fpsolve validate --quick --out docs/_build/validation

(or point ``FPSOLVE_VALIDATION_REPORT`` at any report directory).

Nothing is fetched from the network: the intersphinx inventories of Python, NumPy, SciPy,
Matplotlib and torch are files in ``docs/_intersphinx/`` (see its README), and MathJax is
served from the build's own ``_static/`` (the ``sphinx-mathjax-offline`` package).
"""
import importlib.util
import os
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

# No napoleon or numpydoc: fpsolve's docstrings are numpydoc-like but free-form (prose after a
# Parameters block, "name : description" lines), which both misread as parameters and types.
# fpsolve_docs turns their section headers into rubrics and their entries into definition
# lists instead, resolves references written with public names (fpsolve.FokkerPlanck) and
# renders the command line's help (see _ext/fpsolve_docs.py).
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/: math renders offline
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
    "fpsolve_docs",
]

exclude_patterns = ["_build", "examples", "sg_execution_times.rst",
                    "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json",
                    "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
root_doc = "index"
language = "en"
default_role = "py:obj"       # `name` in docstrings is a cross-reference
nitpicky = True               # every reference must resolve (the CI build adds -n -W)

# -- autodoc / autosummary ----------------------------------------------------------------------
# torch and scikit-learn are optional: without them the network pages are built from mocks
# and the network example is shown but not run. FPSOLVE_DOCS_WITHOUT_TORCH=1 builds so even
# where torch is installed (faster, and how CI checks that the build needs no torch).
WITHOUT_TORCH = os.environ.get("FPSOLVE_DOCS_WITHOUT_TORCH", "") not in ("", "0")
autodoc_mock_imports = [m for m in ("torch", "sklearn")
                        if WITHOUT_TORCH or importlib.util.find_spec(m) is None]
autodoc_member_order = "bysource"
autodoc_default_options = {}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autoclass_content = "both"
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False
add_module_names = False      # "FokkerPlanck.stationary", not the full path, in headings

# -- intersphinx: local inventories, no network -------------------------------------------------
INVENTORIES = HERE / "_intersphinx"
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", str(INVENTORIES / "python.inv")),
    "numpy": ("https://numpy.org/doc/stable", str(INVENTORIES / "numpy.inv")),
    "scipy": ("https://docs.scipy.org/doc/scipy", str(INVENTORIES / "scipy.inv")),
    "matplotlib": ("https://matplotlib.org/stable", str(INVENTORIES / "matplotlib.inv")),
    "torch": ("https://docs.pytorch.org/docs/stable", str(INVENTORIES / "torch.inv")),
}
intersphinx_timeout = 1
intersphinx_disabled_reftypes = ["std:doc"]

# Third-party names that no inventory resolves, each with the reason. fpsolve's own objects are
# never listed here: a reference to one of them that does not resolve fails the build.
nitpick_ignore_regex = [
    # private classes that public annotations evaluate to (the public names are documented:
    # numpy.random.Generator, scipy.sparse.csr_matrix, scipy.sparse.linalg.LinearOperator)
    ("py:class", r"numpy\.random\._generator\.Generator"),
    ("py:class", r"scipy\.sparse\._\w+\.\w+"),
    ("py:class", r"scipy\.sparse\.linalg\._\w+\.\w+"),
    # the few torch names fpsolve's signatures use are in _intersphinx/torch.inv; these are
    # mock objects' names when torch is not installed
    ("py:class", r"torch\..*"),
    ("py:class", r"sklearn\..*"),
    # typing's and collections.abc's generic aliases that Python's inventory lists under other
    # roles or not at all
    ("py:class", r"(typing\.)?(Callable|Iterable|Iterator|Sequence|Mapping|Any|Optional|"
                 r"Union|Literal|NamedTuple|Self)"),
    ("py:class", r"collections\.abc\.\w+"),
    # numpy.typing aliases are documented as data, not classes
    ("py:class", r"numpy\.typing\.\w+"),
    ("py:class", r"ArrayLike|NDArray|npt\.\w+"),
    # pathlib.Path is in Python's inventory, but annotations may spell it through os
    ("py:class", r"os\.PathLike"),
]

# -- sphinx-gallery: docs/examples/*.py run at small size, figures and output on the page -------
os.environ.setdefault("FPSOLVE_EXAMPLE_SMALL", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# the examples save their figure in FPSOLVE_EXAMPLE_OUT; the gallery shows the figures itself
# (matplotlib scraper), so the copies go to the build folder, given relative to docs/examples
# (the folder the gallery runs each example in) so that no machine path appears on a page
os.environ.setdefault("FPSOLVE_EXAMPLE_OUT", os.path.join("..", "_build", "example-output"))
HAVE_TORCH = "torch" not in autodoc_mock_imports
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    # run every example; without torch the network example is shown but not run
    "filename_pattern": r"/" if HAVE_TORCH else r"/(?!network_)[^/]*\.py$",
    "ignore_pattern": r"(__init__|/_[^/]*)\.py$",
    "within_subsection_order": "ExampleTitleSortKey",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "show_memory": False,
    "min_reported_time": 1,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "capture_repr": (),
    "abort_on_example_error": False,   # report every failing example, then fail the build
    "only_warn_on_example_error": False,
    "reference_url": {"fpsolve": None},
    "doc_module": ("fpsolve",),
    "backreferences_dir": "api/generated/backreferences",
    "inspect_global_variables": False,
    # the computation-times page loads DataTables from a CDN: not written (offline site)
    "write_computation_times": False,
}

# -- validation report (see _ext/fpsolve_docs.py) -----------------------------------------------
fpsolve_validation_report = "_build/validation"

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fpsolve {release}"
html_static_path = ["_static"]
html_css_files = ["fpsolve.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # the gallery pages leave out the right-hand contents, so that 99-column code fits
    "secondary_sidebar_items": {
        **{pattern: ["page-toc"] for pattern in ("index", "installation", "quickstart",
                                                 "guide/*", "theory/*", "api/*",
                                                 "api/generated/*")},
        "auto_examples/*": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "icon_links": [],
    "use_edit_page_button": False,
    "show_prev_next": True,
    "header_links_before_dropdown": 7,
}
html_sidebars = {"index": [], "installation": [], "quickstart": []}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
# copy buttons leave the prompts and the output out of what they copy
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
