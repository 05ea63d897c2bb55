"""Security core: accounts."""
