"""One progress display for long runs — particles, the validation suite, sweeps, the network
cross-check — built on tqdm, on stderr.

On an interactive terminal a run shows one live bar (after ``delay`` seconds, so that short runs
stay quiet). Elsewhere (CI logs, files) no bar is drawn; :meth:`Progress.log` lines, one per
finished unit of work, are printed instead, so that a log still says what happened.
"""
from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["Progress"]


class Progress:
    """A progress bar over ``total`` units.

    desc : label in front of the bar. unit : what is counted ("case", "particle-steps").
    enabled : True (always draw), False (never), None (only on an interactive stderr).
    delay : seconds before the bar first appears. stream : default ``sys.stderr``.
    """

    def __init__(self, total, desc: str, unit: str = "it", enabled: bool | None = None,
                 delay: float = 0.0, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = self.interactive if enabled is None else bool(enabled)
        self.done = 0  # counted here: a disabled tqdm bar counts nothing
        self._bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=self.stream,
                         disable=not self.enabled, delay=delay, dynamic_ncols=True, leave=False)

    def advance(self, n=1):
        """Count ``n`` more units as done."""
        self.done += n
        self._bar.update(n)

    def advance_to(self, done):
        """Set the number of units done (for callers that know the total so far)."""
        self.advance(done - self.done)

    def note(self, text: str):
        """Show ``text`` after the bar (e.g. the unit of work now running)."""
        self._bar.set_postfix_str(text, refresh=False)

    def log(self, line: str):
        """One line of record: printed above the bar on a terminal, as plain text elsewhere."""
        if self.enabled:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self):
        """Close the bar (or the log lines); call once when the work is done."""
        self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
