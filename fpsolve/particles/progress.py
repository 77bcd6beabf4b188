"""The progress display of a particle run (:class:`fpsolve.progress.Progress`, in
particle-steps): only on an interactive terminal and only once the run has lasted two seconds,
unless ``progress=True`` asks for it."""
from __future__ import annotations

from ..progress import Progress


def particle_progress(total, enabled=None) -> Progress:
    """A bar over ``total`` particle-steps (``enabled``: True, False or None = automatic)."""
    return Progress(total, "particles", unit="particle-steps", enabled=enabled,
                    delay=0.0 if enabled else 2.0)
