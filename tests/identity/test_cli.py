"""``hygie identity`` as the identity office uses it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_cli import run


def test_check_says_why_a_number_is_refused(tmp_path: Path) -> None:
    good = run("identity", "check", "2 84 05 75 056 089 24", data_dir=tmp_path)
    assert good.returncode == 0 and good.stdout.strip() == "NIR valide : 2 84 05 75 056 089 24"
    bad = run("identity", "check", "284057505608925", data_dir=tmp_path)
    assert bad.returncode != 0
    assert "INS refusé : la clé 25 ne correspond pas au numéro" in bad.stderr


def test_duplicates_are_listed_flagged_and_merged(tmp_path: Path) -> None:
    assert run("demo", data_dir=tmp_path).returncode == 0
    listed = run("identity", "duplicates", "--flag", data_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [pair] = re.findall(r"Patient/(\S+) ~ Patient/(\S+): (.*)", listed.stdout)
    assert "noms de naissance proches" in pair[2]
    assert listed.stdout.strip().endswith("1 doublon(s) potentiel(s), 1 signalé(s)")
    merged = run("identity", "merge", pair[1], pair[0], data_dir=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert f"Patient/{pair[1]} fusionné dans Patient/{pair[0]}" in merged.stdout
    twice = run("identity", "merge", pair[1], pair[0], data_dir=tmp_path)
    assert twice.returncode != 0 and "déjà fusionnée" in twice.stderr
