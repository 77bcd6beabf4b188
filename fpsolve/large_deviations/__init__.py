"""Large deviations (placeholder while building)."""
