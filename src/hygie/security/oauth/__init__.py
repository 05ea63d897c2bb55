"""Security core: oauth."""
