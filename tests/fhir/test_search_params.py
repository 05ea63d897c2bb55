"""Parsing search requests: what is accepted, and the precise 400 for everything else."""

from __future__ import annotations

import base64

import orjson
import pytest

from hygie.fhir.dates import date_range
from hygie.fhir.errors import FhirError
from hygie.fhir.search import SearchQuery, parse_search
from hygie.fhir.search.query import (
    QuantityValue,
    RangeValue,
    ReferenceValue,
    StringValue,
    TokenValue,
)
from hygie.fhir.searchparams import default_registry


def parse(
    resource_type: str, query: str | list[tuple[str, str]], strict: bool = False
) -> SearchQuery:
    from urllib.parse import parse_qsl

    pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else query
    return parse_search(
        resource_type, pairs, default_registry(), strict=strict, default_count=20, max_count=100
    )


def refused(resource_type: str, query: str | list[tuple[str, str]], strict: bool = False) -> str:
    with pytest.raises(FhirError) as error:
        parse(resource_type, query, strict)
    assert error.value.status == 400
    return str(error.value)


def test_comma_is_or_and_repetition_is_and() -> None:
    q = parse("Observation", "code=http://loinc.org|8867-4,9279-1&code=|x&code=http://s|")
    assert [c.values for c in q.criteria] == [
        (TokenValue("http://loinc.org", "8867-4"), TokenValue(None, "9279-1")),
        (TokenValue(None, "x", no_system=True),),
        (TokenValue("http://s", None),),
    ]


def test_escaped_separators_are_part_of_the_value() -> None:
    q = parse("Patient", [("family", r"a\,b,c"), ("identifier", r"urn:x\|y|12\,3")])
    assert q.criteria[0].values == (StringValue("a,b"), StringValue("c"))
    assert q.criteria[1].values == (TokenValue("urn:x|y", "12,3"),)


def test_string_values_are_folded_like_the_index_unless_exact() -> None:
    q = parse("Patient", "family=H%C3%89L%C3%88NE&family:exact=H%C3%A9l%C3%A8ne")
    assert q.criteria[0].values == (StringValue("helene"),)
    assert q.criteria[1].values == (StringValue("Hélène"),)


def test_date_prefixes_and_partial_dates_become_ranges() -> None:
    q = parse("Observation", "date=ge2014-12&date=lt2015-02-19T09:30:35%2B01:00")
    first, second = (c.values[0] for c in q.criteria)
    assert isinstance(first, RangeValue) and first.prefix == "ge"
    assert (first.low, first.high) == date_range("2014-12")
    assert isinstance(second, RangeValue) and second.prefix == "lt"
    assert (second.low, second.high) == date_range("2015-02-19T09:30:35+01:00")


def test_number_precision_is_implicit_in_how_it_is_written() -> None:
    q = parse(
        "Observation", "value-quantity=100&value-quantity=100.00|http://unitsofmeasure.org|mg"
    )
    plain, precise = (c.values[0] for c in q.criteria)
    assert isinstance(plain, QuantityValue) and isinstance(precise, QuantityValue)
    assert (plain.number.low, plain.number.high) == (99.5, 100.5)
    assert precise.number.low == pytest.approx(99.995) and precise.system is not None
    assert (precise.system, precise.code) == ("http://unitsofmeasure.org", "mg")
    unit_only = parse("Observation", "value-quantity=gt5.4||mg").criteria[0].values[0]
    assert isinstance(unit_only, QuantityValue)
    assert (unit_only.number.prefix, unit_only.system, unit_only.code) == ("gt", None, "mg")


def test_reference_forms() -> None:
    q = parse(
        "Observation",
        "subject=Patient/1,2&subject:Patient=3&subject=http://other.org/fhir/Patient/4"
        "&subject=Patient/5/_history/2",
    )
    assert [c.values for c in q.criteria] == [
        (ReferenceValue("Patient", "1"), ReferenceValue(None, "2")),
        (ReferenceValue("Patient", "3"),),
        (ReferenceValue(None, None, "http://other.org/fhir/Patient/4"),),
        (ReferenceValue("Patient", "5"),),
    ]


def test_chain_resolves_the_parameter_on_each_possible_target() -> None:
    q = parse("Observation", "subject:Patient.family=chalmers&patient.name=peter")
    typed, untyped = q.criteria
    assert typed.chain is not None and [t for t, _ in typed.chain.targets] == ["Patient"]
    # patient refers to Group or Patient; only Patient has a "name" parameter
    assert untyped.chain is not None and [t for t, _ in untyped.chain.targets] == ["Patient"]


def test_unknown_parameters_are_ignored_and_left_out_of_the_links() -> None:
    q = parse("Patient", "family=x&utm_source=mail&_has:Observation:subject:code=1&_count=5")
    assert q.ignored == ("utm_source", "_has:Observation:subject:code")
    assert q.link_params == (("family", "x"), ("_count", "5"))


def test_strict_handling_refuses_unknown_parameters_by_name() -> None:
    message = refused("Patient", "family=x&colour=blue&shoe=42", strict=True)
    assert "colour" in message and "shoe" in message


def test_count_above_the_maximum_is_lowered_and_the_link_says_so() -> None:
    q = parse("Patient", "_count=5000")
    assert q.count == 100 and ("_count", "100") in q.link_params
    assert parse("Patient", "_count=0").count == 0
    assert parse("Patient", "").count == 20


def test_total_defaults_to_estimate() -> None:
    assert parse("Patient", "").total == "estimate"
    assert parse("Patient", "_total=accurate").total == "accurate"


def test_include_forms() -> None:
    q = parse(
        "Observation",
        "_include=Observation:subject:Patient&_include=Observation:*"
        "&_include:iterate=Patient:general-practitioner&_revinclude=Provenance:target",
    )
    assert [(i.source_type, i.param, i.target_type, i.iterate) for i in q.includes] == [
        ("Observation", "subject", "Patient", False),
        ("Observation", None, None, False),
        ("Patient", "general-practitioner", None, True),
    ]
    assert [(i.source_type, i.param) for i in q.revincludes] == [("Provenance", "target")]


def test_sort_keys() -> None:
    q = parse("Observation", "_sort=-date,_id,code")
    assert [(k.param.code, k.descending) for k in q.sort] == [
        ("date", True),
        ("_id", False),
        ("code", False),
    ]


@pytest.mark.parametrize(
    ("resource_type", "query", "expected"),
    [
        ("Observation", "date=2024-13-01", "date"),
        ("Observation", "date=yesterday", "date"),
        ("Observation", "date=xx2024", "unknown prefix 'xx'"),
        ("Observation", "value-quantity=gtabc", "not a number"),
        ("Observation", "value-quantity=5|http://unitsofmeasure.org", "not a quantity"),
        ("Observation", "value-quantity=5|http://unitsofmeasure.org|", "without a unit code"),
        ("Observation", "code:below=x", ":below is not supported"),
        ("Observation", "code:text=heart", ":text is not supported"),
        ("Patient", "family:fuzzy=x", ":fuzzy is not supported"),
        ("Patient", "family:missing=maybe", "true or false"),
        ("Patient", "birthdate:exact=2000", ":exact is not supported"),
        ("Observation", "subject:Practitioner=1", "not to Practitioner"),
        ("Observation", "subject=Practitioner/1", "not to Practitioner"),
        ("Observation", "subject=a/b/c", "not a reference"),
        ("Patient", "family.name=x", "only reference parameters can be chained"),
        ("Observation", "subject:Patient.organization.name=x", "one level of chaining"),
        ("Observation", "subject:Patient.colour=x", "has no search parameter 'colour'"),
        ("Patient", "family=", "empty value"),
        ("Patient", "family=a,,b", "empty value"),
        ("Patient", "_sort=colour", "cannot be sorted on 'colour'"),
        ("Patient", "_sort=family,-family", "given twice"),
        ("Patient", "_count=-1", "_count"),
        ("Patient", "_count=ten", "_count"),
        ("Patient", "_count=1&_count=2", "more than once"),
        ("Patient", "_total=some", "_total"),
        ("Patient", "_summary=short", "_summary"),
        ("Patient", "_summary=true&_elements=name", "cannot be used together"),
        ("Patient", "_elements=name,1x", "not an element name"),
        ("Patient", "_include=Patient", "SourceType:parameter"),
        ("Patient", "_include=Patient:family", "no reference search parameter"),
        ("Patient", "_include=Observation:subject", "use :iterate"),
        ("Patient", "_include=Patient:organization:Patient", "does not refer to Patient"),
        ("Patient", "_include:deep=Patient:organization", ":iterate"),
        ("Patient", "_cursor=not-a-cursor", "_cursor"),
        ("Patient", "_lastUpdated:missing=true", "not supported"),
    ],
)
def test_malformed_searches_are_refused_with_a_precise_reason(
    resource_type: str, query: str, expected: str
) -> None:
    assert expected in refused(resource_type, query)


def test_limits_on_parameters_values_and_length() -> None:
    assert "at most 100 parameters" in refused("Patient", [("family", "x")] * 101)
    assert "at most 100" in refused("Patient", [("family", ",".join(["x"] * 101))])
    assert "1024 characters" in refused("Patient", [("family", "x" * 1025)])
    assert "at most 20" in refused("Patient", [("_include", "Patient:organization")] * 21)


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def test_cursor_must_match_the_sort_and_be_well_formed() -> None:
    good = {"k": ["chalmers"], "s": 3, "d": "n", "o": "family"}
    q = parse("Patient", [("_sort", "family"), ("_cursor", _cursor(good))])
    assert q.cursor is not None and q.cursor.keys == ("chalmers",) and q.cursor.forward
    assert "_cursor" not in dict(q.link_params)  # the bundle adds the page's own cursor
    for bad in (
        {**good, "o": "-family"},  # made for another _sort
        {**good, "k": [1]},  # a number where a string sorts
        {**good, "k": []},
        {**good, "s": "3"},
        {**good, "d": "sideways"},
        ["k", "s"],
    ):
        refused("Patient", [("_sort", "family"), ("_cursor", _cursor(bad))])
    refused("Patient", [("_cursor", "%%%")])
