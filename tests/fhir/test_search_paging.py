"""Keyset paging: next/previous links stay exact while other clients write between pages."""

from __future__ import annotations

from typing import Any

import pytest

from hygie.db.engine import Database
from hygie.fhir.errors import FhirError
from hygie.fhir.store import FhirStore
from tests.conftest import backends
from tests.fhir.test_search_examples import follow, ids, search


def patient(family: str, birth_date: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "name": [{"family": family}]}
    if birth_date is not None:
        resource["birthDate"] = birth_date
    return resource


def walk(store: FhirStore, first: dict[str, Any], between: list[Any]) -> list[str]:
    """Follow next links from ``first``; call between[i]() before fetching page i + 2."""
    seen = ids(first)
    page: dict[str, Any] | None = first
    step = 0
    while page is not None:
        if step < len(between):
            between[step]()
        step += 1
        page = follow(store, page, "next")
        if page is not None:
            seen += ids(page)
    return seen


@backends
def test_pages_in_insertion_order_survive_inserts_updates_and_deletes(database: Database) -> None:
    store = FhirStore(database)
    made = [store.create(patient("Pagination")).stored.id for _ in range(23)]
    first = search(store, "Patient?family=pagination&_count=5")
    assert ids(first) == made[:5]
    deleted: list[str] = []

    def insert_two() -> None:
        store.create(patient("Pagination"))
        store.create(patient("Pagination"))

    def update_seen_and_unseen() -> None:
        for pid in (made[1], made[15]):
            body = store.read("Patient", pid).resource()
            store.update("Patient", pid, {**body, "gender": "female"})

    def delete_one_ahead() -> None:
        store.delete("Patient", made[20])
        deleted.append(made[20])

    seen = walk(store, first, [insert_two, update_seen_and_unseen, delete_one_ahead])
    throughout = [pid for pid in made if pid not in deleted]
    assert len(seen) == len(set(seen)), "a row was shown twice"
    assert [pid for pid in seen if pid in made] == throughout, "a row was skipped or moved"
    assert len(seen) == len(throughout) + 2  # the inserted rows come last, once each


@backends
def test_sorted_pages_survive_writes_and_put_missing_values_last(database: Database) -> None:
    store = FhirStore(database)
    dates = ["1980", "1975-06", "1990-01-01", None, "1975-06", "2001", None, "1960", "1990-01-01"]
    made = {store.create(patient("Sorted", d)).stored.id: d for d in dates * 2}
    first = search(store, "Patient?family=sorted&_sort=-birthdate,_id&_count=4")

    def writes() -> None:
        store.create(patient("Sorted", "1985"))  # lands in a page already read
        store.create(patient("Sorted", "1950"))  # lands in a page still to come
        store.create(patient("Sorted"))  # no birth date: last
        some = next(iter(made))
        store.update("Patient", some, {**store.read("Patient", some).resource(), "active": True})

    seen = walk(store, first, [writes])
    assert len(seen) == len(set(seen)), "a row was shown twice"
    of_made = [pid for pid in seen if pid in made]
    with_date = sorted(pid for pid in made if made[pid] is not None)
    with_date.sort(key=lambda pid: str(made[pid]), reverse=True)  # stable: ties by _id
    without_date = sorted(pid for pid in made if made[pid] is None)
    assert of_made == with_date + without_date


@backends
def test_previous_links_walk_back_through_the_same_pages(database: Database) -> None:
    store = FhirStore(database)
    for i in range(11):
        store.create(patient("Back", f"19{50 + i % 4}"))
    forward = [search(store, "Patient?family=back&_sort=birthdate&_count=3")]
    while (nxt := follow(store, forward[-1], "next")) is not None:
        forward.append(nxt)
    assert [len(ids(p)) for p in forward] == [3, 3, 3, 2]
    assert follow(store, forward[0], "previous") is None
    backward = [forward[-1]]
    while (prev := follow(store, backward[-1], "previous")) is not None:
        backward.append(prev)
    assert [ids(p) for p in reversed(backward)] == [ids(p) for p in forward]
    # every page's self link fetches that same page again
    for page in forward:
        again = follow(store, page, "self")
        assert again is not None and ids(again) == ids(page)


@backends
def test_a_tampered_cursor_is_refused(database: Database) -> None:
    store = FhirStore(database)
    for _ in range(3):
        store.create(patient("Cursor"))
    page = search(store, "Patient?family=cursor&_count=1")
    next_url = next(link["url"] for link in page["link"] if link["relation"] == "next")
    cursor = next_url.split("_cursor=")[1]
    with pytest.raises(FhirError) as error:
        search(store, f"Patient?family=cursor&_count=1&_cursor={cursor[:-3]}")
    assert error.value.status == 400 and "_cursor" in str(error.value)
    with pytest.raises(FhirError):  # a cursor of one _sort cannot page another
        search(store, f"Patient?family=cursor&_count=1&_sort=_id&_cursor={cursor}")
