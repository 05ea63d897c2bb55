"""`hygie users` as an operator runs it, on a real database: create, list, disable, enable."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hygie.db.engine import Database
from hygie.security.accounts import AccountService, SignInFailed
from hygie.security.accounts.cli import users
from hygie.security.audit import AuditLog, load_signer
from tests.conftest import backends
from tests.security.accounts.helpers import GOOD_PASSWORD, with_luhn

RPPS = with_luhn("1000987654")


@pytest.fixture
def invoke(database_url: str, database: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "HYGIE_DATA_DIR": str(tmp_path),
        "HYGIE_DATABASE_URL": database_url,
        "HYGIE_MODE": "demo",
        "HYGIE_AUDIT_KEY_FILE": "",
    }

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(users, list(args), env=env, input=stdin)

    return run


@backends
def test_create_list_disable_enable(invoke, database: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    created = invoke(
        "create",
        "--kind",
        "professional",
        "--username",
        "Dr.Martin",
        "--display",
        "Dr Claire Martin",
        "--fhir-ref",
        "Practitioner/pr1",
        "--organization",
        "Organization/chu",
        "--role",
        "physician",
        "--role",
        "nurse",
        "--rpps",
        RPPS,
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert "created professional account dr.martin" in created.output
    prompted = invoke(
        "create",
        "--kind",
        "patient",
        "--username",
        "jean.dupont",
        stdin=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert GOOD_PASSWORD not in prompted.output  # hidden prompt

    listed = invoke("list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["USERNAME", "KIND", "STATUS", "ROLES", "RPPS", "FHIR", "DISPLAY"]
    assert lines[1].split() == [
        "dr.martin",
        "practitioner",
        "active",
        "nurse,physician",
        RPPS,
        "Practitioner/pr1",
        "Dr",
        "Claire",
        "Martin",
    ]
    assert lines[2].split() == ["jean.dupont", "patient", "active", "-", "-", "-", "jean.dupont"]

    service = AccountService(database)
    assert service.check_password("jean.dupont", GOOD_PASSWORD, source_ip="127.0.0.1")
    assert invoke("disable", "JEAN.DUPONT").exit_code == 0
    assert "jean.dupont  patient       disabled" in invoke("list").output
    with pytest.raises(SignInFailed):
        service.check_password("jean.dupont", GOOD_PASSWORD, source_ip="127.0.0.1")
    assert invoke("enable", "jean.dupont").exit_code == 0
    assert service.check_password("jean.dupont", GOOD_PASSWORD, source_ip="127.0.0.1")

    assert (tmp_path / "keys").is_dir()  # the CLI made the demo key; read with it
    log = AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))
    actions = [log.entry(i) for i in range(log.tree_head().tree_size)]
    admin = [(e.action, e.actor.id) for e in actions if e.family == "admin"]
    assert admin == [
        ("admin.user.create", "hygie-cli"),
        ("admin.user.create", "hygie-cli"),
        ("admin.user.disable", "hygie-cli"),
        ("admin.user.enable", "hygie-cli"),
    ]


@backends
def test_refusals_are_clear_and_change_nothing(invoke, database: Database) -> None:  # type: ignore[no-untyped-def]
    weak = invoke(
        "create",
        "--kind",
        "patient",
        "--username",
        "jean.dupont",
        "--password-stdin",
        stdin="azerty\n",
    )
    assert weak.exit_code == 1
    assert "password refused:" in weak.output
    assert "au moins 12 caractères" in weak.output and "trop courant" in weak.output
    no_rpps = invoke(
        "create",
        "--kind",
        "professional",
        "--username",
        "dr.x",
        "--role",
        "nurse",
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert no_rpps.exit_code == 1 and "RPPS" in no_rpps.output
    bad_kind = invoke(
        "create", "--kind", "robot", "--username", "r2d2", "--password-stdin", stdin="x\n"
    )
    assert bad_kind.exit_code == 2
    assert (
        invoke(
            "create",
            "--kind",
            "patient",
            "--username",
            "jean.dupont",
            "--password-stdin",
            stdin=GOOD_PASSWORD + "\n",
        ).exit_code
        == 0
    )
    again = invoke(
        "create",
        "--kind",
        "patient",
        "--username",
        "jean.dupont",
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert again.exit_code == 1 and "déjà utilisé" in again.output
    missing = invoke("disable", "nobody")
    assert missing.exit_code == 1 and "no account named 'nobody'" in missing.output
    assert [a.username for a in AccountService(database).list()] == ["jean.dupont"]
    assert "Traceback" not in weak.output + again.output + missing.output


def test_an_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    env = {"HYGIE_DATA_DIR": str(tmp_path), "HYGIE_DATABASE_URL": "", "HYGIE_MODE": "demo"}
    result = CliRunner().invoke(users, ["list"], env=env)
    assert result.exit_code == 1
    assert "run `hygie migrate` first" in result.output
