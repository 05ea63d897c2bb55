"""What every `hygie` sub-command needs: the settings, or a clear error, and the database."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import Table, inspect

from hygie.app import SchemaNotCurrent
from hygie.config import Settings, SettingsError
from hygie.db.engine import Database, make_engine
from hygie.security.audit import Actor, AuditEntry, AuditLog, Outcome
from hygie.security.audit.errors import AuditKeyError
from hygie.security.audit.signing import TreeHeadSigner, load_signer
from hygie.security.crypto.errors import KekConfigError
from hygie.security.keyfiles import KeyFileError
from hygie.security.policy.errors import PolicyError
from hygie.security.services import Security, UnsafeConfiguration, build_security

# What stops Hygie from starting, each with a message that says what to do.
STARTUP_ERRORS = (
    SchemaNotCurrent,
    AuditKeyError,
    KekConfigError,
    KeyFileError,
    PolicyError,
    UnsafeConfiguration,
)


def settings_or_exit() -> Settings:
    try:
        return Settings.from_env()
    except (SettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def open_database(settings: Settings) -> Database:
    return Database(make_engine(settings.sqlalchemy_url))


def migrated_database(settings: Settings, table: Table, what: str) -> Database:
    """The database, or a clear error when ``table`` (``what``) is missing: not migrated."""
    db = open_database(settings)
    if not inspect(db.engine).has_table(table.name):
        db.dispose()
        raise click.ClickException(f"the database has no {what} table: run `hygie migrate` first")
    return db


def record_operator_action(
    log: AuditLog,
    operator: Actor,
    action: str,
    reason: str,
    *,
    resource: str | None = None,
    client_id: str | None = None,
) -> None:
    """One ``admin.*`` entry of an operator command, stored before the command answers."""
    log.append(
        AuditEntry(
            time=datetime.now(UTC),
            actor=operator,
            action=action,
            outcome=Outcome.SUCCESS,
            resource=resource,
            client_id=client_id,
            reason=reason,
        )
    )


def signer_or_exit(settings: Settings) -> TreeHeadSigner:
    """The audit log's signing key, for the commands that write or check the log."""
    try:
        return load_signer(data_dir=settings.data_dir, allow_generate=settings.demo)
    except AuditKeyError as exc:
        raise click.ClickException(str(exc)) from None


def security_or_exit(settings: Settings, db: Database) -> Security:
    try:
        return build_security(settings, db)
    except STARTUP_ERRORS as exc:
        raise click.ClickException(str(exc)) from None
