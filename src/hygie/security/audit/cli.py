"""``hygie audit``: check the log against its stored hashes and signed tree heads."""

from __future__ import annotations

import base64

import click

from hygie.cli_support import open_database, settings_or_exit, signer_or_exit
from hygie.security.audit.service import AuditLog
from hygie.security.audit.verify import verify_log


@click.group(name="audit")
def audit() -> None:
    """The tamper-evident audit log (signing key: HYGIE_AUDIT_KEY_FILE)."""


@audit.command(name="verify")
def verify_command() -> None:
    """Recompute the Merkle tree from every entry; exit 1 and name the first bad entry."""
    settings = settings_or_exit()
    verifier = signer_or_exit(settings).verifier
    db = open_database(settings)
    try:
        report = verify_log(db, verifier)
    finally:
        db.dispose()
    if not report.ok:
        where = (
            "" if report.first_bad_index is None else f" (first bad index {report.first_bad_index})"
        )
        raise click.ClickException(f"audit log TAMPERED{where}: {report.problem}")
    click.echo(
        f"audit log intact: {report.tree_size} entries, "
        f"{report.signed_heads} signed tree heads verified"
    )


@audit.command(name="sth")
def sth_command() -> None:
    """Sign (if the log grew) and print the current tree head."""
    settings = settings_or_exit()
    signer = signer_or_exit(settings)
    db = open_database(settings)
    try:
        sth = AuditLog(db, signer).signed_tree_head()
    finally:
        db.dispose()
    click.echo(
        f"tree_size={sth.tree_size} timestamp={sth.timestamp_ms} "
        f"root={base64.b64encode(sth.root_hash).decode()} key_id={sth.key_id}"
    )
