"""The web edge: ASGI adapters that turn HTTP into calls on Hygie's services."""
