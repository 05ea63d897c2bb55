"""Hygie's security core: authentication, policy, audit log and encryption at rest."""
