"""Errors of the policy module; every message says precisely what is wrong."""

from __future__ import annotations


class PolicyError(Exception):
    """The Cedar policies or their schema are invalid: Hygie refuses to start."""


class ConsentError(ValueError):
    """A FHIR Consent Hygie cannot honour as written (malformed or unsupported)."""


class BreakGlassRefused(Exception):
    """Break-the-glass was refused; the message says why (no patient data in it)."""
