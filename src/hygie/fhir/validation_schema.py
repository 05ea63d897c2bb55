"""Element tables compiled from the ``fhir.resources`` R4B models, one per complex type.

The pydantic models carry the FHIR structure (element names, datatypes, cardinality,
required elements, choice groups); reading it once into plain tables lets the validator
walk a resource's JSON in one pass with strict JSON types, every problem reported
(see validation.py for why the models are not run directly). Tables are built on first
use and cached; nothing is imported or compiled at import time.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from hygie.fhir.validation_primitives import CHECKS, PrimitiveCheck

Model = Any  # a fhir.resources model class (the package is untyped)

# fhir_core's annotation markers -> FHIR primitive type codes (datatypes.html#primitive).
_PRIMITIVE_MARKERS = {
    "String": "string",
    "Code": "code",
    "Id": "id",
    "Uri": "uri",
    "Url": "url",
    "Canonical": "canonical",
    "Oid": "oid",
    "UuidVersion": "uuid",
    "Markdown": "markdown",
    "Integer": "integer",
    "UnsignedInt": "unsignedInt",
    "PositiveInt": "positiveInt",
    "Decimal": "decimal",
    "Date": "date",
    "DateTime": "dateTime",
    "Instant": "instant",
    "Time": "time",
    "Base64Binary": "base64Binary",
    "Xhtml": "xhtml",
}

# What R4B (4.3.0) added to the R4 types it kept (https://hl7.org/fhir/R4B/history.html):
# the CodeableReference and RatioRange datatypes, which in those types only appear as
# choices of open-typed elements (Extension.value[x], ElementDefinition.fixed[x]...), and
# canonical as a type of ActivityDefinition/PlanDefinition.subject[x]. R4 has none of them.
_R4B_ONLY_TYPES = frozenset({"CodeableReference", "RatioRange"})
_R4B_ONLY_ELEMENTS = frozenset(
    {("ActivityDefinition", "subjectCanonical"), ("PlanDefinition", "subjectCanonical")}
)


@dataclass(frozen=True, slots=True)
class Element:
    """One element of a complex type as it appears in JSON."""

    name: str
    many: bool
    required: bool
    choice: str | None  # "value" for valueQuantity, valueString...
    primitive: str | None  # FHIR primitive type code, None for a complex element
    model: Model | None  # the complex type's model; Resource itself for "any resource"
    check: PrimitiveCheck | None  # the primitive's JSON check, None for a complex element
    any_resource: bool = False
    # The allowed codes of a code bound to a required value set (e.g. Patient.gender); None
    # when the binding is open (fhir.resources marks those with a trailing "+").
    codes: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """The elements a complex type allows, by JSON name."""

    type_name: str
    is_resource: bool
    elements: dict[str, Element]
    extensions: dict[str, Element]  # "_birthDate" -> the birthDate element
    required: tuple[Element, ...]


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"cannot read the FHIR type of {annotation!r}")
        return args[0]
    return annotation


def _primitive_code(annotation: Any) -> str | None:
    if annotation is bool:
        return "boolean"
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    for marker in typing.get_args(annotation)[1:]:
        code = _PRIMITIVE_MARKERS.get(type(marker).__name__)
        if code is not None:
            return code
    raise TypeError(f"unknown FHIR primitive annotation {annotation!r}")


def _element(name: str, field: Any, resource_base: Model) -> Element:
    annotation = _strip_optional(field.annotation)
    many = typing.get_origin(annotation) is list
    if many:
        annotation = _strip_optional(typing.get_args(annotation)[0])
    extra = field.json_schema_extra or {}
    primitive = _primitive_code(annotation)
    model = None if primitive else annotation.get_model_klass()
    enum_values = extra.get("enum_values")
    codes = (
        frozenset(enum_values)
        if primitive == "code" and enum_values and "+" not in enum_values
        else None
    )
    return Element(
        name=name,
        many=many,
        required=field.is_required() or bool(extra.get("element_required")),
        choice=extra.get("one_of_many"),
        primitive=primitive,
        model=model,
        check=CHECKS[primitive] if primitive else None,
        any_resource=model is resource_base,
        codes=codes,
    )


@cache
def table_of(model: Model) -> Table:
    from fhir.resources.R4B.resource import Resource

    elements: dict[str, Element] = {}
    extension_names: list[str] = []
    for field_name, field in model.model_fields.items():
        name = field.alias or field_name  # the JSON name: "assert" for the field assert_fhir
        if field_name == "fhir_comments":
            continue  # a DSTU2 JSON habit fhir.resources keeps; R4 JSON has no such element
        if field_name.endswith("__ext"):
            extension_names.append(name)  # "_birthDate"
            continue
        element = _element(name, field, Resource)
        if (model.__name__, name) in _R4B_ONLY_ELEMENTS or (
            element.model is not None and element.model.__name__ in _R4B_ONLY_TYPES
        ):
            continue
        elements[name] = element
    extensions = {name: elements[name[1:]] for name in extension_names if name[1:] in elements}
    return Table(
        type_name=model.__name__,
        is_resource=issubclass(model, Resource),
        elements=elements,
        extensions=extensions,
        required=tuple(e for e in elements.values() if e.required),
    )


@cache
def resource_model(resource_type: str) -> Model:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


@cache
def primitive_extension_model() -> Model:
    from fhir.resources.R4B.fhirprimitiveextension import FHIRPrimitiveExtension

    return FHIRPrimitiveExtension
