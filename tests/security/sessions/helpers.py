"""Helpers of the sessions tests: a clock the test moves, accounts, and form submission."""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient
from httpx import Response

from hygie.security.accounts import Account, AccountService
from hygie.security.context import PrincipalKind

ORIGIN = "https://testserver"
PASSWORD = "Vaste-Plaine-Bleue-2026"


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def patient(accounts: AccountService, username: str = "alice") -> Account:
    return accounts.create(
        PrincipalKind.PATIENT, username, PASSWORD, display="Alice Martin", fhir_ref="Patient/p1"
    )


def professional(
    accounts: AccountService, username: str = "dr.bernard", rpps: str = "10001234565"
) -> Account:
    return accounts.create(
        PrincipalKind.PRACTITIONER,
        username,
        PASSWORD,
        display="Dr Bernard",
        fhir_ref="Practitioner/pr1",
        organization_ref="Organization/o1",
        roles=frozenset({"physician"}),
        rpps=rpps,
    )


def enrol_totp(accounts: AccountService, account: Account, clock: Clock) -> pyotp.TOTP:
    """Enrol TOTP through the service; the next code to use is one step later."""
    enrolment = accounts.begin_totp(account.id)
    totp = pyotp.TOTP(enrolment.secret)
    accounts.confirm_totp(account.id, totp.at(clock()))
    clock.advance(30)
    return totp


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(
    http: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"
) -> Response:
    page = http.get("/connexion")
    return http.post(
        "/connexion",
        data={
            "username": username,
            "password": password,
            "csrf": csrf_of(page.text),
            "next": next_path,
        },
        follow_redirects=False,
    )


def second_factor(
    http: TestClient, code: str, methode: str = "totp", next_path: str = "/"
) -> Response:
    page = http.get("/connexion/second-facteur")
    return http.post(
        "/connexion/second-facteur",
        data={"methode": methode, "code": code, "csrf": csrf_of(page.text), "next": next_path},
        follow_redirects=False,
    )
