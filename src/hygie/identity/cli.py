"""``hygie identity``: the identity office's tools (check an INS, list and flag likely
duplicates, merge two Patients).

The commands act as Hygie itself (``SystemAccess``) for a named reason, through the FHIR
router, and every interaction is audited like the importer's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from hygie.cli_support import open_database, security_or_exit, settings_or_exit
from hygie.fhir.access import SystemAccess
from hygie.fhir.router import FhirRouter
from hygie.http.caller_fhir import FhirCallError, FhirClient
from hygie.identity.ins import NIA_OID, NIR_OID, InsError, format_ins, parse_ins
from hygie.identity.vigilance import MergeError, find_duplicates, flag_duplicates, merge_patients


@contextmanager
def _system_fhir(reason: str) -> Iterator[FhirClient]:
    from hygie.security.pep import system_audit

    settings = settings_or_exit()
    db = open_database(settings)
    try:
        security = security_or_exit(settings, db)
        try:
            router = FhirRouter(security.store, fhir_base=settings.fhir_base_url)
            guard = SystemAccess(reason, audit=system_audit(security.audit_sink))
            yield FhirClient(router, guard)
        finally:
            security.audit_sink.close()
    finally:
        db.dispose()


@click.group(name="identity")
def identity() -> None:
    """Identity vigilance: INS checks, likely duplicates, merges."""


@identity.command(name="check")
@click.argument("value")
@click.option("--nia", is_flag=True, help="The number is a NIA (OID 1.2.250.1.213.1.4.9).")
def check_command(value: str, nia: bool) -> None:
    """Check an INS number (key, length, characters, month, sex digit)."""
    try:
        ins = parse_ins(value, NIA_OID if nia else NIR_OID)
    except InsError as exc:
        raise click.ClickException(f"INS refusé : {exc}") from None
    click.echo(f"{ins.kind} valide : {format_ins(ins)}")


@identity.command(name="duplicates")
@click.option("--flag", is_flag=True, help="Create a Task for the identity office per new pair.")
def duplicates_command(flag: bool) -> None:
    """List the likely duplicate Patients (and flag them with --flag)."""
    with _system_fhir("identity vigilance: duplicate search") as fhir:
        suspects = find_duplicates(fhir)
        for suspect in suspects:
            click.echo(
                f"Patient/{suspect.first} ~ Patient/{suspect.second}: " + ", ".join(suspect.reasons)
            )
        created = flag_duplicates(fhir, suspects) if flag else 0
    click.echo(
        f"{len(suspects)} doublon(s) potentiel(s)" + (f", {created} signalé(s)" if flag else "")
    )


@identity.command(name="merge")
@click.argument("replaced")
@click.argument("kept")
def merge_command(replaced: str, kept: str) -> None:
    """Merge Patient REPLACED into Patient KEPT (history kept, REPLACED made inactive)."""
    with _system_fhir(
        f"identity vigilance: merge of Patient/{replaced} into Patient/{kept}"
    ) as fhir:
        try:
            result = merge_patients(fhir, replaced, kept)
        except (MergeError, FhirCallError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"Patient/{result.replaced} fusionné dans Patient/{result.kept} : "
        f"{result.moved} ressource(s) rattachée(s)"
    )
