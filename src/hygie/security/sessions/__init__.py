"""Security core: sessions."""
