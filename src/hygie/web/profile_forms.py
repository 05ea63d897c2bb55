"""The profile page's sections, each with the form that adds to it (fields from the record
module's PROFILE_FORMS), and a refused entry's message placed next to its field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hygie.record.profile import PROFILE_FORMS, FormField, ProfileError, ProfileItem, ProfileSection
from hygie.web.render import FormErrors


@dataclass(frozen=True)
class SectionView:
    key: str
    title: str
    items: list[ProfileItem]
    fields: tuple[FormField, ...]


def field_id(section_key: str, name: str) -> str:
    return f"{section_key}-{name}"


def profile_sections_view(sections: Sequence[ProfileSection]) -> list[SectionView]:
    return [SectionView(s.key, s.title, s.items, PROFILE_FORMS.get(s.key, ())) for s in sections]


def profile_form_errors(
    section_key: str, refused: ProfileError, values: Mapping[str, str]
) -> FormErrors:
    """The message next to the field it is about: the one it names (« label ») or whose
    typed value it quotes; else the section's first field."""
    errors = FormErrors()
    fields = PROFILE_FORMS.get(section_key, ())
    message = str(refused)

    def about(field: FormField) -> bool:
        typed = values.get(field.name, "").strip()
        return f"« {field.label} »" in message or bool(typed and f"« {typed} »" in message)

    named = next((f for f in fields if about(f)), fields[0] if fields else None)
    errors.add(field_id(section_key, named.name) if named else "contenu", message)
    return errors
