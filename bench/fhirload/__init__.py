"""FHIR R4 load benchmark: the same workload against any server, figures as JSON.

Run it with ``uv run python bench/fhir_load.py --help``; ``cli.main`` is the entry point.
"""

from .cli import main

__all__ = ["main"]
