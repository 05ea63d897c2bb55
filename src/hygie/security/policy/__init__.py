"""Security core: policy."""
