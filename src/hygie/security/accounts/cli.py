"""``hygie users``: create, list, disable and enable accounts, for operators.

Each change is an ``admin.user.*`` entry in the audit log, so the audit signing key must be
available (HYGIE_AUDIT_KEY_FILE, or the generated one in demo mode).
"""

from __future__ import annotations

import sys

import click

from hygie.cli_support import (
    migrated_database,
    record_operator_action,
    settings_or_exit,
    signer_or_exit,
)
from hygie.db.engine import Database
from hygie.security.accounts.model import (
    Account,
    AccountExists,
    InvalidAccount,
    PasswordRejected,
)
from hygie.security.accounts.service import AccountService
from hygie.security.accounts.tables import security_accounts_account
from hygie.security.audit import Actor, ActorKind, AuditLog
from hygie.security.context import PrincipalKind

_KINDS = {
    "patient": PrincipalKind.PATIENT,
    "professional": PrincipalKind.PRACTITIONER,
    "admin": PrincipalKind.ADMIN,
}
_OPERATOR = Actor(ActorKind.SYSTEM, "hygie-cli", "hygie users")


def _open() -> tuple[Database, AuditLog]:
    settings = settings_or_exit()
    signer = signer_or_exit(settings)
    db = migrated_database(settings, security_accounts_account, "accounts")
    return db, AuditLog(db, signer)


def _record(log: AuditLog, action: str, account: Account) -> None:
    record_operator_action(log, _OPERATOR, action, f"account {account.id} ({account.username})")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    return value


@click.group(name="users")
def users() -> None:
    """Accounts of patients, professionals and administrators."""


@users.command(name="create")
@click.option("--kind", type=click.Choice(sorted(_KINDS)), required=True)
@click.option("--username", required=True)
@click.option("--display", default=None, help="Name shown to people (default: the username).")
@click.option("--fhir-ref", default=None, help="Patient/<id> or Practitioner/<id>.")
@click.option("--organization", default=None, help="Organization/<id> (professionals).")
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="Repeatable: physician, nurse ... (professionals); security-officer, it-admin (admins).",
)
@click.option("--rpps", default=None, help="The professional's 11-digit RPPS number.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(
    kind: str,
    username: str,
    display: str | None,
    fhir_ref: str | None,
    organization: str | None,
    roles: tuple[str, ...],
    rpps: str | None,
    password_stdin: bool,
) -> None:
    """Create an account; the password is asked for (hidden) unless --password-stdin."""
    password = _read_password(password_stdin)
    db, log = _open()
    try:
        account = AccountService(db).create(
            _KINDS[kind],
            username,
            password,
            display=display or username,
            fhir_ref=fhir_ref,
            organization_ref=organization,
            roles=frozenset(roles),
            rpps=rpps,
        )
        _record(log, "admin.user.create", account)
    except PasswordRejected as exc:
        raise click.ClickException("\n".join(["password refused:", *exc.reasons])) from None
    except (InvalidAccount, AccountExists) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(f"created {kind} account {account.username} (id {account.id})")


@users.command(name="list")
def list_command() -> None:
    """Every account, one per line."""
    db, _ = _open()
    try:
        rows = AccountService(db).list()
    finally:
        db.dispose()
    header = ("USERNAME", "KIND", "STATUS", "ROLES", "RPPS", "FHIR", "DISPLAY")
    table = [header] + [
        (
            a.username,
            a.kind.value,
            "disabled" if a.disabled else "active",
            ",".join(sorted(a.roles)) or "-",
            a.rpps or "-",
            a.fhir_ref or "-",
            a.display,
        )
        for a in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        click.echo("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[-1]]))


@users.command(name="disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Stop an account from signing in."""
    _set_disabled(username, True)


@users.command(name="enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Let a disabled account sign in again."""
    _set_disabled(username, False)


def _set_disabled(username: str, disabled: bool) -> None:
    db, log = _open()
    try:
        service = AccountService(db)
        account = service.by_username(username)
        if account is None:
            raise click.ClickException(f"no account named {username!r}")
        if disabled:
            service.disable(account.id)
        else:
            service.enable(account.id)
        _record(log, "admin.user.disable" if disabled else "admin.user.enable", account)
    finally:
        db.dispose()
    click.echo(f"{account.username} {'disabled' if disabled else 'enabled'}")
