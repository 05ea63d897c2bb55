"""Security core: pep."""
