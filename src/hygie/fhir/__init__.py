"""The FHIR R4 engine: store, search index, validation, bundles, an HTTP-free router.

Nothing in this package imports a web framework; ``hygie.http`` adapts it to ASGI.
"""
