"""String normalisation shared by indexing and search: case- and accent-insensitive."""

from __future__ import annotations

import unicodedata

MAX_INDEXED_CHARS = 256


def normalize(value: str) -> str:
    """Lower-case, strip accents and fold white space: "  Hélène  Dupont" -> "helene dupont"."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())[:MAX_INDEXED_CHARS]
