"""A dependency-free progress line on stderr for long particle runs."""
from __future__ import annotations

import sys
import time


class Progress:
    """``enabled``: True, False, or None (auto: only on an interactive stderr, and only once the
    run has lasted ``delay`` seconds). Updates are throttled to one per ``every`` seconds."""

    def __init__(self, total, enabled=None, label="particles", delay=2.0, every=0.5,
                 unit="particle-steps"):
        self.total = max(float(total), 1.0)
        self.label = label
        self.unit = unit
        self.start = time.perf_counter()
        self.last = 0.0
        self.delay = 0.0 if enabled else delay
        self.every = every
        self.enabled = bool(enabled) if enabled is not None else sys.stderr.isatty()
        self.shown = False

    def update(self, done):
        if not self.enabled:
            return
        now = time.perf_counter() - self.start
        if now < self.delay or now - self.last < self.every:
            return
        self.last = now
        frac = min(done / self.total, 1.0)
        rate = done / now if now > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        sys.stderr.write(f"\r{self.label}: {100 * frac:5.1f}%  {rate:.3g} {self.unit}/s  "
                         f"ETA {eta:6.1f} s ")
        sys.stderr.flush()
        self.shown = True

    def close(self):
        if self.shown:
            el = time.perf_counter() - self.start
            sys.stderr.write(f"\r{self.label}: done in {el:.1f} s{' ' * 30}\n")
            sys.stderr.flush()
