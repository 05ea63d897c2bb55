"""Hygie: a self-hostable, zero-trust e-health platform built on a FHIR R4 store."""

__version__ = "0.1.0"
