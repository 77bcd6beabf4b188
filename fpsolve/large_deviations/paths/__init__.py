"""Minimum-action paths (gMAM, numpy and torch backends) and minimum-energy paths (string
method), with the discrete geometric action they share."""
from .action import ActionState, action_state, geometric_action, segment_costs
from .gmam import MinimumActionPath, minimum_action_path
from .string import MinimumEnergyPath, descent_orbit, string_method

__all__ = ["geometric_action", "segment_costs", "action_state", "ActionState",
           "minimum_action_path", "MinimumActionPath", "string_method", "MinimumEnergyPath",
           "descent_orbit"]
