"""The server-rendered portals: the patient's health space (/espace) and the professional
portal (/pro). French, accessible, usable without JavaScript.

Public interface: :func:`portal_router`.
"""

from hygie.web.router import portal_router

__all__ = ["portal_router"]
