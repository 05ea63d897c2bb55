"""FHIR R4 search (search.html): parse a request, run it as SQL, answer with a searchset.

- :func:`parse_search` turns (name, value) pairs into a :class:`SearchQuery` (400 if bad);
- :func:`execute_search` runs it in a connection: a keyset :class:`SearchPage` of matches
  and includes;
- :func:`searchset_bundle` writes the Bundle, with paging links and _summary/_elements;
- :func:`find_matches` answers conditional create/update/delete criteria.

Modules: ``params``/``values`` parse, ``sql`` (criteria), ``ordering`` (_sort and keyset
conditions), ``paging`` (cursors), ``execute``, ``includes``, ``bundle``, ``subsetting``.
"""

from hygie.fhir.search.bundle import searchset_bundle
from hygie.fhir.search.execute import SearchPage, execute_search, find_matches
from hygie.fhir.search.params import parse_search
from hygie.fhir.search.query import SearchQuery

__all__ = [
    "SearchPage",
    "SearchQuery",
    "execute_search",
    "find_matches",
    "parse_search",
    "searchset_bundle",
]
