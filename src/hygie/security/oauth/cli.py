"""``hygie clients``: register, list and revoke OAuth clients (SMART apps, backend services)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import inspect

from hygie.cli_support import open_database, settings_or_exit
from hygie.db.engine import Database
from hygie.security.oauth.clients import ClientKind, ClientRegistry
from hygie.security.oauth.errors import ClientError, UnknownClient
from hygie.security.oauth.tables import security_oauth_client


def _open() -> Database:
    db = open_database(settings_or_exit())
    if not inspect(db.engine).has_table(security_oauth_client.name):
        db.dispose()
        raise click.ClickException("the database has no client table: run `hygie migrate` first")
    return db


@click.group(name="clients")
def clients() -> None:
    """OAuth clients: SMART apps (public or confidential) and backend services."""


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
    help="Public JWKS of a backend service (private_key_jwt, RS384 or ES384).",
)
def create_command(
    name: str,
    kind: str,
    redirect_uris: tuple[str, ...],
    scopes: tuple[str, ...],
    jwks_file: Path | None,
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
    db = _open()
    try:
        client, secret = ClientRegistry(db).create(
            name, ClientKind(kind), redirect_uris=redirect_uris, scopes=words, jwks=jwks
        )
    except ClientError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"client_id: {client.id}")
    if secret is not None:
        click.echo(f"client_secret: {secret}")
        click.echo("Keep this secret now: Hygie stores only its hash and cannot show it again.")


@clients.command(name="revoke")
@click.argument("client_id")
def revoke_command(client_id: str) -> None:
    """Revoke a client: its tokens stop working at once."""
    db = _open()
    try:
        ClientRegistry(db).revoke(client_id)
    except UnknownClient:
        raise click.ClickException(f"no client {client_id}") from None
    finally:
        db.dispose()
    click.echo(f"client {client_id} revoked")


@clients.command(name="list")
def list_command() -> None:
    """Every client: id, type, state, name, scopes."""
    db = _open()
    try:
        registered = ClientRegistry(db).list()
    finally:
        db.dispose()
    for client in registered:
        state = "revoked" if client.revoked else "active"
        scopes = " ".join(sorted(client.scopes))
        click.echo(f"{client.id}  {client.kind.value:<12} {state:<7} {client.name}  [{scopes}]")
