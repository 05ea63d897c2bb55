"""`hygie audit verify` finds entries altered, removed, inserted or reordered in the database."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.security.audit import AuditLog, load_signer, to_leaf, verify_log
from hygie.security.audit.cli import audit
from hygie.security.audit.merkle import leaf_hash
from tests.conftest import backends
from tests.security.test_audit_helpers import entry

SIZE = 40


@pytest.fixture
def filled(database: Database, tmp_path: Path) -> Iterator[Database]:
    log = AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))
    log.append_many([entry(n) for n in range(25)])
    log.signed_tree_head()
    log.append_many([entry(n, patient=f"Patient/p{n % 3}") for n in range(25, SIZE)])
    log.signed_tree_head()
    yield database


def check(db: Database, tmp_path: Path) -> tuple[int | None, str | None]:
    verifier = load_signer({}, data_dir=tmp_path, allow_generate=True).verifier
    report = verify_log(db, verifier)
    # Reading by small odd chunks (subtrees straddle chunk edges) must find the same thing.
    for chunk in (1, 3, 7):
        again = verify_log(db, verifier, chunk=chunk)
        assert (again.first_bad_index, again.problem) == (report.first_bad_index, report.problem)
    return report.first_bad_index, report.problem


def run(db: Database, sql: str, **params: object) -> None:
    with db.write() as conn:
        conn.execute(text(sql), params)


@backends
def test_an_untouched_log_verifies(filled: Database, tmp_path: Path) -> None:
    assert check(filled, tmp_path) == (None, None)
    report = verify_log(filled, load_signer({}, data_dir=tmp_path, allow_generate=True).verifier)
    assert (report.ok, report.tree_size, report.signed_heads) == (True, SIZE, 2)


@backends
def test_an_altered_leaf_is_named(filled: Database, tmp_path: Path) -> None:
    forged = to_leaf(entry(17, patient="Patient/someone-else"), 17)
    run(filled, "UPDATE security_audit_entry SET leaf = :leaf WHERE idx = 17", leaf=forged)
    assert check(filled, tmp_path)[0] == 17


@backends
def test_an_altered_leaf_with_its_hash_recomputed_is_caught(
    filled: Database, tmp_path: Path
) -> None:
    forged = to_leaf(entry(30, patient="Patient/p0", outcome=entry(0).outcome), 30)
    forged = forged.replace(b"clinician-reads-own-patients", b"break-glass-emergency-policy")
    run(
        filled,
        "UPDATE security_audit_entry SET leaf = :leaf, leaf_hash = :digest WHERE idx = 30",
        leaf=forged,
        digest=leaf_hash(forged),
    )
    bad, problem = check(filled, tmp_path)
    assert bad == 30 and problem is not None and "30..31" in problem


@backends
def test_a_removed_entry_is_named(filled: Database, tmp_path: Path) -> None:
    run(filled, "DELETE FROM security_audit_entry WHERE idx = 9")
    assert check(filled, tmp_path) == (9, "entry 9 is missing (removed)")


@backends
def test_a_removed_last_entry_is_named(filled: Database, tmp_path: Path) -> None:
    run(filled, f"DELETE FROM security_audit_entry WHERE idx = {SIZE - 1}")
    assert check(filled, tmp_path)[0] == SIZE - 1


@backends
def test_two_swapped_rows_are_named(filled: Database, tmp_path: Path) -> None:
    # Whole rows trade places: leaf, leaf hash and lookup columns together.
    run(filled, "UPDATE security_audit_entry SET idx = -1 WHERE idx = 4")
    run(filled, "UPDATE security_audit_entry SET idx = 4 WHERE idx = 21")
    run(filled, "UPDATE security_audit_entry SET idx = 21 WHERE idx = -1")
    bad, problem = check(filled, tmp_path)
    assert bad == 4 and problem == "entry 4 holds the record written as entry 21"


@backends
def test_an_inserted_entry_is_named(filled: Database, tmp_path: Path) -> None:
    leaf = to_leaf(entry(SIZE), SIZE)
    run(
        filled,
        "INSERT INTO security_audit_entry (idx, leaf, leaf_hash, time_us, patient_ref) "
        "VALUES (:idx, :leaf, :digest, 0, NULL)",
        idx=SIZE,
        leaf=leaf,
        digest=leaf_hash(leaf),
    )
    assert check(filled, tmp_path)[0] == SIZE


@backends
def test_a_moved_patient_column_is_caught(filled: Database, tmp_path: Path) -> None:
    # The lookup column feeds a patient's access history; hiding an access there is tampering.
    run(filled, "UPDATE security_audit_entry SET patient_ref = 'Patient/p9' WHERE idx = 3")
    assert check(filled, tmp_path)[0] == 3


@backends
def test_a_rewritten_history_is_caught_by_the_signed_tree_heads(
    filled: Database, tmp_path: Path
) -> None:
    # An attacker rebuilds the whole tree over a forged entry 10; only the signatures stand.
    forged_db_key = tmp_path / "attacker"
    with filled.write() as conn:
        for table in ("security_audit_entry", "security_audit_node", "security_audit_sth"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("UPDATE security_audit_head SET size = 0, frontier = :e"), {"e": b""})
    rewriter = AuditLog(filled, load_signer({}, data_dir=forged_db_key, allow_generate=True))
    rewriter.append_many([entry(n, patient=None if n == 10 else "Patient/p1") for n in range(SIZE)])
    rewriter.signed_tree_head()
    _, problem = check(filled, tmp_path)
    assert problem is not None and "does not verify" in problem


@backends
def test_a_rebuilt_tree_is_caught_by_the_signed_head_it_contradicts(
    filled: Database, tmp_path: Path
) -> None:
    with filled.write() as conn:
        conn.execute(text("DELETE FROM security_audit_node"))
        conn.execute(text("UPDATE security_audit_head SET size = 0, frontier = :e"), {"e": b""})
        conn.execute(text("DELETE FROM security_audit_entry"))
    key = load_signer({}, data_dir=tmp_path, allow_generate=True)
    AuditLog(filled, key).append_many(
        [entry(n, patient="Patient/p2" if n == 30 else "Patient/p1") for n in range(SIZE)]
    )
    bad, problem = check(filled, tmp_path)
    assert problem == "entries 25..39 differ from the signed tree head of size 40"
    assert bad == 25


def invoke(tmp_path: Path, url: str, mode: str = "demo") -> Result:
    """`hygie audit verify`; in demo mode with the key the demo generated under the data dir."""
    env = {
        "HYGIE_DATA_DIR": str(tmp_path),
        "HYGIE_DATABASE_URL": url,
        "HYGIE_AUDIT_KEY_FILE": "",
        "HYGIE_MODE": mode,
    }
    return CliRunner().invoke(audit, ["verify"], env=env)


@backends
def test_the_cli_exits_1_with_one_line_naming_the_entry(
    filled: Database, tmp_path: Path, database_url: str
) -> None:
    ok = invoke(tmp_path, database_url)
    assert ok.exit_code == 0, ok.output
    assert ok.output == f"audit log intact: {SIZE} entries, 2 signed tree heads verified\n"
    run(filled, "DELETE FROM security_audit_entry WHERE idx = 2")
    bad = invoke(tmp_path, database_url)
    assert bad.exit_code == 1
    assert bad.output.count("\n") == 1
    assert "first bad index 2" in bad.output and "removed" in bad.output


def test_the_cli_refuses_to_verify_without_the_key_in_production(tmp_path: Path) -> None:
    load_signer({}, data_dir=tmp_path, allow_generate=True)  # a demo's key is never used
    result = invoke(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", mode="production")
    assert result.exit_code == 1
    assert "HYGIE_AUDIT_KEY_FILE" in result.output


@backends
def test_a_rewritten_subtree_hash_is_caught(filled: Database, tmp_path: Path) -> None:
    # Subtree (level 2, index 3) covers entries 12..15; its flat position is 3*8 + 3 = 27.
    run(filled, "UPDATE security_audit_node SET hash = :h WHERE pos = 27", h=b"\x00" * 32)
    assert check(filled, tmp_path) == (
        12,
        "entries 12..15 do not match their stored subtree hash "
        "(an entry or a hash there was rewritten)",
    )


@backends
def test_an_empty_log_verifies_and_a_removed_head_is_reported(
    database: Database, tmp_path: Path
) -> None:
    log = AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))
    assert log.signed_tree_head().tree_size == 0
    assert check(database, tmp_path) == (None, None)
    run(database, "DELETE FROM security_audit_head")
    assert check(database, tmp_path) == (None, "the log's head row was removed")


def test_the_cli_prints_the_signed_tree_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hygie.sqlite3'}"
    db = Database(make_engine(url))
    try:
        upgrade(db.engine)
        log = AuditLog(db, load_signer({}, data_dir=tmp_path, allow_generate=True))
        log.append_many([entry(n) for n in range(3)])
        root = base64.b64encode(log.tree_head().root_hash).decode()
    finally:
        db.dispose()
    env = {
        "HYGIE_DATA_DIR": str(tmp_path),
        "HYGIE_DATABASE_URL": url,
        "HYGIE_AUDIT_KEY_FILE": "",
        "HYGIE_MODE": "demo",
    }
    result = CliRunner().invoke(audit, ["sth"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("tree_size=3 timestamp=")
    assert f"root={root} " in result.output
