"""WiFi indoor positioning: radio maps of fingerprints and the engine that locates scans."""

from hygie.location.positioning.coverage import LevelCoverage, coverage
from hygie.location.positioning.engine import Fix, Positioner, PositionerConfig
from hygie.location.positioning.evaluation import evaluate
from hygie.location.positioning.radio_map import RadioMap, RadioMapError
from hygie.location.positioning.ujiindoorloc_csv import parse_radio_map, read_radio_map

__all__ = [
    "Fix",
    "LevelCoverage",
    "Positioner",
    "PositionerConfig",
    "RadioMap",
    "RadioMapError",
    "coverage",
    "evaluate",
    "parse_radio_map",
    "read_radio_map",
]
