"""Wayfinding: routes across levels and buildings with French turn-by-turn instructions."""
