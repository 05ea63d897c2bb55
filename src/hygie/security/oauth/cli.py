"""``hygie clients``: register, list and revoke OAuth clients (SMART apps, backend services,
devices) and set a device's posture.

Each change is an ``admin.client.*`` entry in the audit log, so the audit signing key must be
available (HYGIE_AUDIT_KEY_FILE, or the generated one in demo mode), as for ``hygie users``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from hygie.cli_support import (
    migrated_database,
    record_operator_action,
    settings_or_exit,
    signer_or_exit,
)
from hygie.db.engine import Database
from hygie.security.audit import Actor, ActorKind, AuditLog
from hygie.security.oauth.clients import Client, ClientKind, ClientRegistry, Posture
from hygie.security.oauth.errors import ClientError, UnknownClient
from hygie.security.oauth.tables import security_oauth_client

_OPERATOR = Actor(ActorKind.SYSTEM, "hygie-cli", "hygie clients")


def _open() -> Database:
    return migrated_database(settings_or_exit(), security_oauth_client, "client")


def _open_audited() -> tuple[Database, AuditLog]:
    signer = signer_or_exit(settings_or_exit())
    db = _open()
    return db, AuditLog(db, signer)


def _record(log: AuditLog, action: str, client: Client, detail: str = "") -> None:
    reason = f"{client.kind.value} client {client.id} ({client.name}){detail}"
    record_operator_action(
        log, _OPERATOR, action, reason, resource=client.device_ref, client_id=client.id
    )


@click.group(name="clients")
def clients() -> None:
    """OAuth clients: SMART apps (public or confidential), backend services and devices."""


@clients.command(name="create")
@click.option("--name", required=True, help="Name shown to users on the consent screen.")
@click.option(
    "--type", "kind", required=True, type=click.Choice([kind.value for kind in ClientKind])
)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI.")
@click.option("--scope", "scopes", multiple=True, required=True, help="Allowed scope(s).")
@click.option(
    "--jwks-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Public JWKS of a backend service or device (private_key_jwt, RS384 or ES384).",
)
@click.option("--device", "device_ref", help="Device/<id>: the FHIR Device a device client is.")
def create_command(
    name: str,
    kind: str,
    redirect_uris: tuple[str, ...],
    scopes: tuple[str, ...],
    jwks_file: Path | None,
    device_ref: str | None,
) -> None:
    """Register a client; prints its id, and its secret once for confidential clients."""
    jwks = None
    if jwks_file is not None:
        try:
            jwks = json.loads(jwks_file.read_text())
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"{jwks_file}: not a JSON JWKS ({exc})") from None
        if not isinstance(jwks, dict):
            raise click.ClickException(f'{jwks_file}: expected {{"keys": [...]}}')
    words = [word for scope in scopes for word in scope.split()]
    db, log = _open_audited()
    try:
        client, secret = ClientRegistry(db).create(
            name,
            ClientKind(kind),
            redirect_uris=redirect_uris,
            scopes=words,
            jwks=jwks,
            device_ref=device_ref,
        )
        _record(log, "admin.client.create", client)
    except ClientError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"client_id: {client.id}")
    if client.posture is not None:
        click.echo(f"posture: {client.posture.value}")
    if secret is not None:
        click.echo(f"client_secret: {secret}")
        click.echo("Keep this secret now: Hygie stores only its hash and cannot show it again.")


@clients.command(name="revoke")
@click.argument("client_id")
def revoke_command(client_id: str) -> None:
    """Revoke a client: its tokens stop working at once."""
    db, log = _open_audited()
    try:
        registry = ClientRegistry(db)
        registry.revoke(client_id)
        client = registry.get(client_id)
        assert client is not None  # just revoked
        _record(log, "admin.client.revoke", client)
    except UnknownClient:
        raise click.ClickException(f"no client {client_id}") from None
    finally:
        db.dispose()
    click.echo(f"client {client_id} revoked")


@clients.command(name="posture")
@click.argument("client_id")
@click.argument("posture", type=click.Choice([posture.value for posture in Posture]))
def posture_command(client_id: str, posture: str) -> None:
    """Set a device's posture: only compliant devices record telemetry, a quarantined one
    may do nothing. Running servers apply it within a second."""
    db, log = _open_audited()
    try:
        client = ClientRegistry(db).set_posture(client_id, Posture(posture))
        _record(log, "admin.client.posture", client, f": posture {posture}")
    except UnknownClient:
        raise click.ClickException(f"no device client {client_id}") from None
    finally:
        db.dispose()
    click.echo(f"device {client.device_ref} (client {client_id}) is now {posture}")


@clients.command(name="list")
def list_command() -> None:
    """Every client: id, type, state, name, scopes; a device's Device and posture."""
    db = _open()
    try:
        registered = ClientRegistry(db).list()
    finally:
        db.dispose()
    for client in registered:
        state = "revoked" if client.revoked else "active"
        scopes = " ".join(sorted(client.scopes))
        device = f" {client.device_ref} {client.posture}" if client.device_ref else ""
        click.echo(
            f"{client.id}  {client.kind.value:<12} {state:<7} {client.name}{device}  [{scopes}]"
        )
