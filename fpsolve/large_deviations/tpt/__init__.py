"""Transition-path theory on the grid: reactive density, current and rate."""
from .reactive import TransitionPaths, transition_paths

__all__ = ["transition_paths", "TransitionPaths"]
