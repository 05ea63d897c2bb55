"""A compiler from the FHIRPath of search parameter definitions to plain Python closures.

The R4 definitions use a small part of FHIRPath: paths, ``|`` unions, ``as``/``is`` type
operators, ``.as()``, ``.ofType()``, ``.where()`` with equality or ``resolve() is Type``,
``.exists()``, ``and``, ``[n]``. This module compiles that subset once per expression,
typing every step with the R4 model that fhirpathpy ships, so that choice elements
(``Observation.effective``) become one branch per JSON key (``effectiveDateTime``,
``effectivePeriod``, ...) and type filters are settled at compile time. Evaluating an
expression is then a few dictionary look-ups, with the FHIR type of every value known.

``as`` is read as ``ofType``: the R4 definitions apply it to collections
(``(Observation.component.value as Quantity)``), which the FHIR errata and R5 spell
``ofType``. Anything outside the subset raises :class:`UnsupportedExpression`; the
indexer then falls back to fhirpathpy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from fhirpathpy.models import models

from hygie.fhir.references import parse_reference, resource_type_names

Select = Callable[[Any], list[Any]]
RESOLVED = "@resolved"  # the type of resolve()'s output: the referenced resource type names
BOOLEAN = "boolean"
_GENERIC_RESOURCES = frozenset({"Resource", "DomainResource"})


class UnsupportedExpression(ValueError):
    """The expression uses FHIRPath outside the compiled subset."""


@dataclass(frozen=True, slots=True)
class Branch:
    """Values of one FHIR type selected from the evaluation root.

    ``type`` is a FHIR type name ("CodeableConcept", "dateTime"), or for a backbone
    element its path ("Observation.component").
    """

    type: str
    select: Select
    root_key: str | None = None  # the resource's element the values come from, if only one


def _identity(item: Any) -> list[Any]:
    return [item]


# -- the R4 model ---------------------------------------------------------------------------
class _Model:
    def __init__(self) -> None:
        r4 = models["r4"]
        self.path_type: dict[str, str] = r4["path2Type"]
        self.choices: dict[str, list[str]] = r4["choiceTypePaths"]
        self.elsewhere: dict[str, str] = r4["pathsDefinedElsewhere"]
        self.parents: dict[str, str] = r4["type2Parent"]
        self._lineages: dict[str, list[str]] = {}
        self.backbones = {
            path.rsplit(".", i)[0]
            for path in self.path_type
            for i in range(1, path.count("."))
            if "." in path.rsplit(".", i)[0]
        }

    def lineage(self, type_name: str) -> list[str]:
        """The type and its ancestors: Age -> Quantity -> Element."""
        chain = self._lineages.get(type_name)
        if chain is None:
            if "." in type_name:
                chain = [type_name, "BackboneElement", "Element"]
            else:
                chain = []
                current: str | None = type_name
                while current is not None:
                    chain.append(current)
                    current = self.parents.get(current)
            self._lineages[type_name] = chain
        return chain

    def is_subtype(self, type_name: str, of: str) -> bool:
        return of in self.lineage(type_name)

    def is_primitive(self, type_name: str) -> bool:
        return type_name[:1].islower() or type_name.startswith("System.")

    def elements(self, owner_type: str, name: str) -> list[tuple[str, str]]:
        """(JSON key, FHIR type) of element ``name`` of ``owner_type``; one per choice type."""
        for owner in self.lineage(owner_type):
            path = f"{owner}.{name}"
            if path in self.choices:
                return [
                    (name + choice, self.path_type.get(f"{path}{choice}") or self._type(choice))
                    for choice in self.choices[path]
                ]
            if path in self.path_type:
                return [(name, self.path_type[path])]
            if path in self.elsewhere:
                return [(name, self.elsewhere[path])]
            if path in self.backbones:
                return [(name, path)]
        raise UnsupportedExpression(f"{owner_type} has no element {name!r}")

    def _type(self, choice: str) -> str:
        primitive = choice[0].lower() + choice[1:]
        return primitive if primitive in self.parents else choice


@cache
def _model() -> _Model:
    return _Model()


def type_lineage(type_name: str) -> list[str]:
    """A FHIR type and its ancestors: "Age" -> ["Age", "Quantity", "Element"].

    "System.String" (the type of ids and extension URLs) counts as the FHIR ``string``.
    """
    if type_name.startswith("System."):
        type_name = type_name[7:8].lower() + type_name[8:]
    return _model().lineage(type_name)


# -- parsing ----------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<id>[A-Za-z_]\w*|`[^`]+`)|(?P<op>!=|[.|()\[\]=,]))"
)


@dataclass(frozen=True, slots=True)
class _Node:
    kind: str  # name, member, call, index, union, as, is, =, !=, and, literal
    name: str = ""
    args: tuple[_Node, ...] = ()
    value: object = None


class _Parser:
    def __init__(self, expression: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        for match in _TOKEN.finditer(expression):
            if match.start() != position:
                break
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        if expression[position:].strip():
            raise UnsupportedExpression(f"cannot read {expression[position:]!r}")
        self.position = 0

    def parse(self) -> _Node:
        node = self._and()
        if self.position != len(self.tokens):
            raise UnsupportedExpression(f"unexpected {self.tokens[self.position][1]!r}")
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise UnsupportedExpression("unexpected end of expression")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise UnsupportedExpression(f"expected {expected!r}, got {token[1]!r}")
        self.position += 1
        return token

    def _and(self) -> _Node:
        node = self._equality()
        while self._peek() == "and":
            self._take()
            node = _Node("and", args=(node, self._equality()))
        return node

    def _equality(self) -> _Node:
        node = self._union()
        if self._peek() in ("=", "!="):
            operator = self._take()[1]
            node = _Node(operator, args=(node, self._union()))
        return node

    def _union(self) -> _Node:
        node = self._type_operator()
        while self._peek() == "|":
            self._take()
            node = _Node("union", args=(node, self._type_operator()))
        return node

    def _type_operator(self) -> _Node:
        node = self._postfix()
        if self._peek() in ("as", "is"):
            operator = self._take()[1]
            node = _Node(operator, name=self._identifier(), args=(node,))
        return node

    def _postfix(self) -> _Node:
        node = self._term()
        while self._peek() in (".", "["):
            if self._take()[1] == "[":
                kind, text = self._take()
                if kind != "num" or "." in text:
                    raise UnsupportedExpression(f"unsupported index {text!r}")
                self._take("]")
                node = _Node("index", args=(node,), value=int(text))
            else:
                node = self._invocation(node)
        return node

    def _term(self) -> _Node:
        if self._peek() == "(":
            self._take()
            node = self._and()
            self._take(")")
            return node
        kind, text = self._take()
        if kind == "str":
            return _Node("literal", value=text[1:-1].replace("\\'", "'"))
        if kind == "num":
            return _Node("literal", value=float(text) if "." in text else int(text))
        if kind != "id":
            raise UnsupportedExpression(f"unexpected {text!r}")
        if text in ("true", "false"):
            return _Node("literal", value=text == "true")
        self.position -= 1
        return self._invocation(None)

    def _invocation(self, target: _Node | None) -> _Node:
        name = self._identifier()
        if self._peek() != "(":
            return (
                _Node("member", name=name, args=(target,))
                if target is not None
                else _Node("name", name=name)
            )
        self._take("(")
        args: list[_Node] = []
        while self._peek() != ")":
            args.append(self._and())
            if self._peek() == ",":
                self._take()
        self._take(")")
        return _Node("call", name=name, args=(target, *args) if target else (_ROOT, *args))

    def _identifier(self) -> str:
        kind, text = self._take()
        if kind != "id":
            raise UnsupportedExpression(f"expected a name, got {text!r}")
        return text.strip("`")


_ROOT = _Node("this")  # a function called without a target applies to the focus


# -- compiling ------------------------------------------------------------------------------
Focus = tuple[Branch, ...]


def _children(parent: Branch, key: str, element_type: str) -> Branch:
    if parent.select is _identity:

        def select(item: Any) -> list[Any]:
            value = item.get(key)
            if value is None:
                return []
            if type(value) is list:
                return [v for v in value if v is not None]
            return [value]

        return Branch(element_type, select, key)
    outer = parent.select

    def select_nested(root: Any) -> list[Any]:
        out: list[Any] = []
        for item in outer(root):
            value = item.get(key)
            if value is None:
                continue
            if type(value) is list:
                out.extend(v for v in value if v is not None)
            else:
                out.append(value)
        return out

    return Branch(element_type, select_nested, parent.root_key)


def _filtered(branch: Branch, keep: Callable[[Any], bool], type_name: str = "") -> Branch:
    outer = branch.select
    return Branch(
        type_name or branch.type,
        lambda root: [v for v in outer(root) if keep(v)],
        branch.root_key,
    )


def _gather(branches: Focus) -> Select:
    if len(branches) == 1:
        return branches[0].select
    selects = [b.select for b in branches]
    return lambda root: [v for select in selects for v in select(root)]


def _truth(branches: Focus) -> Callable[[Any], bool]:
    """FHIRPath's reading of a where() criterion: true only for a single ``true``."""
    select = _gather(branches)
    return lambda item: select(item) == [True]


def _equal(left: object, right: object) -> bool:
    return isinstance(left, bool) == isinstance(right, bool) and left == right


class _Compiler:
    def __init__(self) -> None:
        self.model = _model()

    def compile(self, node: _Node, focus: Focus) -> Focus:
        kind = node.kind
        if kind == "this":
            return focus
        if kind == "name":
            if node.name in resource_type_names():
                return self._of_type(focus, node.name)
            return self._member(focus, node.name)
        if kind == "member":
            return self._member(self.compile(node.args[0], focus), node.name)
        if kind == "union":
            return self.compile(node.args[0], focus) + self.compile(node.args[1], focus)
        if kind == "as":
            return self._of_type(self.compile(node.args[0], focus), node.name)
        if kind == "is":
            return self._is(self.compile(node.args[0], focus), node.name)
        if kind == "call":
            return self._call(node, focus)
        if kind == "index":
            return self._index(self.compile(node.args[0], focus), int(str(node.value)))
        if kind in ("=", "!="):
            return self._compare(kind, node, focus)
        if kind == "and":
            return self._and(node, focus)
        if kind == "literal":
            literal = node.value
            return (Branch(_literal_type(literal), lambda _root: [literal]),)
        raise UnsupportedExpression(f"unsupported {kind}")

    def _member(self, focus: Focus, name: str) -> Focus:
        out = []
        for branch in focus:
            if self.model.is_primitive(branch.type) or branch.type == RESOLVED:
                raise UnsupportedExpression(f"no element {name!r} on a {branch.type}")
            if branch.type in _GENERIC_RESOURCES:
                raise UnsupportedExpression(f"{name!r} of a resource of unknown type")
            for key, element_type in self.model.elements(branch.type, name):
                out.append(_children(branch, key, element_type))
        return tuple(out)

    def _of_type(self, focus: Focus, type_name: str) -> Focus:
        out = []
        for branch in focus:
            if branch.type in _GENERIC_RESOURCES and type_name in resource_type_names():
                out.append(
                    _filtered(branch, lambda v: v.get("resourceType") == type_name, type_name)
                )
            elif self.model.is_subtype(branch.type, type_name):
                out.append(branch)
        return tuple(out)

    def _is(self, focus: Focus, type_name: str) -> Focus:
        typed = [(b.type, b.select) for b in focus]
        is_subtype = self.model.is_subtype

        def select(root: Any) -> list[Any]:
            found = [
                (value if type_name_ == RESOLVED else type_name_)
                for type_name_, select_ in typed
                for value in select_(root)
            ]
            return [is_subtype(found[0], type_name)] if len(found) == 1 else []

        return (Branch(BOOLEAN, select),)

    def _call(self, node: _Node, focus: Focus) -> Focus:
        target = self.compile(node.args[0], focus)
        args = node.args[1:]
        name = node.name
        if name in ("as", "ofType") and len(args) == 1 and args[0].kind == "name":
            return self._of_type(target, args[0].name)
        if name == "where" and len(args) == 1:
            return self._where(target, args[0])
        if name in ("exists", "empty") and len(args) <= 1:
            if args:
                target = self._where(target, args[0])
            select = _gather(target) if target else (lambda _root: [])
            want = name == "exists"
            return (Branch(BOOLEAN, lambda root: [bool(select(root)) is want]),)
        if name == "resolve" and not args:
            return tuple(self._resolve(branch) for branch in target)
        if name == "first" and not args:
            return self._index(target, 0)
        raise UnsupportedExpression(f"unsupported function {name}()")

    def _where(self, target: Focus, criterion: _Node) -> Focus:
        return tuple(
            _filtered(branch, _truth(self.compile(criterion, (Branch(branch.type, _identity),))))
            for branch in target
        )

    def _resolve(self, branch: Branch) -> Branch:
        if branch.type != "Reference":
            raise UnsupportedExpression(f"resolve() of a {branch.type}")
        outer = branch.select

        def select(root: Any) -> list[Any]:
            out = []
            for reference in outer(root):
                target = parse_reference(reference.get("reference") or "")
                if target is not None and target.target_type is not None:
                    out.append(target.target_type)
            return out

        return Branch(RESOLVED, select, branch.root_key)

    def _index(self, target: Focus, position: int) -> Focus:
        if len(target) != 1:  # the order across choice branches is not kept
            raise UnsupportedExpression("an index over several types")
        outer = target[0].select
        selected = Branch(target[0].type, lambda root: outer(root)[position : position + 1])
        return (replace(selected, root_key=target[0].root_key),)

    def _compare(self, operator: str, node: _Node, focus: Focus) -> Focus:
        left = _gather(self.compile(node.args[0], focus))
        right = _gather(self.compile(node.args[1], focus))
        equal = operator == "="

        def select(root: Any) -> list[Any]:
            lhs, rhs = left(root), right(root)
            if len(lhs) != 1 or len(rhs) != 1:
                return []
            return [_equal(lhs[0], rhs[0]) is equal]

        return (Branch(BOOLEAN, select),)

    def _and(self, node: _Node, focus: Focus) -> Focus:
        left = _gather(self.compile(node.args[0], focus))
        right = _gather(self.compile(node.args[1], focus))

        def select(root: Any) -> list[Any]:
            lhs, rhs = left(root), right(root)
            if lhs == [False] or rhs == [False]:
                return [False]
            return [True] if lhs == [True] and rhs == [True] else []

        return (Branch(BOOLEAN, select),)


def _literal_type(value: object) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return "integer"
    return "decimal" if isinstance(value, float) else "string"


@cache
def compile_expression(expression: str, root_type: str) -> tuple[Branch, ...]:
    """The typed branches that ``expression`` selects from a ``root_type`` resource.

    Raises UnsupportedExpression when the expression is outside the compiled subset.
    """
    node = _Parser(expression).parse()
    return _Compiler().compile(node, (Branch(root_type, _identity),))


def evaluate(branches: tuple[Branch, ...], resource: Any) -> list[tuple[str, Any]]:
    """(FHIR type, value) of everything the compiled expression selects."""
    return [(branch.type, value) for branch in branches for value in branch.select(resource)]
