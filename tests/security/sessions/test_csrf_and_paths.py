"""CSRF tokens and the `next` parameter, without HTTP."""

from __future__ import annotations

import pytest

from hygie.security.sessions.csrf import CsrfGuard
from hygie.security.sessions.web import local_path

ORIGIN = "https://hygie.example"


def test_a_token_is_bound_to_its_session_and_to_the_server_key() -> None:
    guard = CsrfGuard(b"a" * 32, origin=ORIGIN)
    token = guard.token("s1")
    assert guard.check("s1", token, None)
    assert guard.check("s1", token, ORIGIN)
    assert not guard.check("s2", token, None)
    assert not guard.check("s1", None, None)
    assert not guard.check("s1", "", None)
    assert not CsrfGuard(b"b" * 32, origin=ORIGIN).check("s1", token, None)
    assert not guard.check("s1", token, "https://evil.example")
    assert not guard.check_pre_session("n", guard.token("n"), None)  # other purpose
    assert "a" * 32 not in repr(guard)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        CsrfGuard(b"short", origin=ORIGIN)


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/ok\r\nLocation: https://evil.example",
        "evil.example",
        "",
        None,
    ],
)
def test_next_only_accepts_local_paths(value: str | None) -> None:
    assert local_path(value) == "/"


def test_next_keeps_a_local_path_with_its_query() -> None:
    assert local_path("/oauth/authorize?client_id=a&scope=openid") == (
        "/oauth/authorize?client_id=a&scope=openid"
    )
