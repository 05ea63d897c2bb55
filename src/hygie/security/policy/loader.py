"""Reading and checking the Cedar policy directory: schema, policies, action catalogue.

Everything that can be wrong with the policies is found here, at start-up, so that a bad
file stops Hygie instead of silently denying (or worse, permitting) at run time. cedarpy
accepts policies that do not match the schema unless they are validated explicitly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarpy
from cedarpy import pst

from hygie.security.policy.errors import PolicyError
from hygie.security.policy.model import FHIR_ACTIONS

SCHEMA_FILE = "schema.cedarschema.json"
NAMESPACE = "Hygie"
_POLICY_ID = re.compile(r"[a-z][a-z0-9-]{0,99}")
_SMART_LETTERS = frozenset("cruds")


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    id: str  # the @id annotation: what audit entries name
    reason: str  # the @reason annotation: one sentence, no patient data
    break_glass: bool  # @break_glass("true"): a permit by this policy is flagged


@dataclass(frozen=True, slots=True)
class LoadedPolicies:
    text: str  # every policy file, concatenated in file name order
    policy_set: cedarpy.PolicySet
    schema: cedarpy.Schema
    policies: dict[str, PolicyInfo]  # by @id
    smart_permission: dict[str, str | None]  # action -> SMART letter (None: not FHIR)
    action_entities: cedarpy.Entities  # the actions and their groups


def load_directory(directory: Path) -> LoadedPolicies:
    if not directory.is_dir():
        raise PolicyError(f"{directory}: no such policy directory")
    schema_path = directory / SCHEMA_FILE
    schema_json = _read_schema(schema_path)
    schema = _parse_schema(schema_path, schema_json)
    smart = _action_catalogue(schema_path, schema_json)
    files = sorted(directory.glob("*.cedar"))
    if not files:
        raise PolicyError(f"{directory}: no .cedar policy file")
    policies: dict[str, PolicyInfo] = {}
    texts = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for info in _policies_of(path, text):
            if info.id in policies:
                raise PolicyError(f"{path.name}: policy id {info.id!r} is used twice")
            policies[info.id] = info
        texts.append(text)
    text = "\n".join(texts)
    result = cedarpy.validate_policies(text, schema)
    if not result.validation_passed:
        names = result.id_annotations_by_policy_id
        problems = "; ".join(
            f"[{names.get(error.policy_id, error.policy_id)}] {error.error}"
            for error in result.errors
        )
        raise PolicyError(f"{directory}: the policies do not match the schema: {problems}")
    return LoadedPolicies(
        text=text,
        policy_set=cedarpy.PolicySet.from_str(text),
        schema=schema,
        policies=policies,
        smart_permission=smart,
        action_entities=_action_entities(schema_json, schema),
    )


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: the Cedar schema is missing") from None
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get(NAMESPACE), dict):
        raise PolicyError(f"{path}: the schema must declare the namespace {NAMESPACE!r}")
    return data


def _parse_schema(path: Path, data: dict[str, Any]) -> cedarpy.Schema:
    try:
        return cedarpy.Schema.from_json_str(json.dumps(data))
    except ValueError as exc:
        raise PolicyError(f"{path}: invalid Cedar schema: {exc}") from None


def _action_catalogue(path: Path, data: dict[str, Any]) -> dict[str, str | None]:
    """The actions the schema declares, with their SMART letters: the one list of actions.

    Groups (actions without ``appliesTo``) are left out: a request names a real action.
    """
    actions: dict[str, Any] = data[NAMESPACE].get("actions", {})
    smart: dict[str, str | None] = {}
    for name, spec in actions.items():
        if "appliesTo" not in spec:
            continue
        letter = spec.get("annotations", {}).get("smart")
        if letter is not None and letter not in _SMART_LETTERS:
            raise PolicyError(f"{path}: action {name!r}: @smart must be one of c, r, u, d, s")
        smart[name] = letter
    missing = sorted(action for action in FHIR_ACTIONS if smart.get(action) is None)
    if missing:
        raise PolicyError(
            f"{path}: the FHIR actions {', '.join(missing)} must be declared with a @smart letter"
        )
    return smart


def _action_entities(data: dict[str, Any], schema: cedarpy.Schema) -> cedarpy.Entities:
    """The actions and their groups as Cedar entities, parsed once.

    With them a request needs no schema at run time to know that ``fhir.read`` is in
    ``health-data``; passing the schema would re-check every request, at a cost larger than
    the evaluation itself (the tests check the requests against the schema instead).
    """
    actions: dict[str, Any] = data[NAMESPACE].get("actions", {})
    entities = [
        {
            "uid": {"type": f"{NAMESPACE}::Action", "id": name},
            "attrs": {},
            "parents": [
                {"type": f"{NAMESPACE}::Action", "id": parent["id"]}
                for parent in spec.get("memberOf", [])
            ],
        }
        for name, spec in actions.items()
    ]
    return cedarpy.Entities.from_json_str(json.dumps(entities), schema)


def _policies_of(path: Path, text: str) -> list[PolicyInfo]:
    try:
        parsed = cedarpy.policies_to_pst(text)
    except ValueError as exc:
        raise PolicyError(f"{path.name}: not valid Cedar: {exc}") from None
    if parsed.templates:
        raise PolicyError(f"{path.name}: templates are not allowed, only static policies")
    infos: list[PolicyInfo] = []
    for policy in parsed.static_policies.values():
        annotations = policy.annotations
        policy_id = annotations.get("id")
        where = f"{path.name}: the {policy.effect} policy number {len(infos) + 1}"
        if policy_id is None or not _POLICY_ID.fullmatch(policy_id):
            raise PolicyError(f'{where} needs an @id("lower-case-words") annotation')
        if not annotations.get("reason"):
            raise PolicyError(f"{path.name}: policy {policy_id!r} needs a @reason annotation")
        # Decisions are cached by attributes (pdp.py): a policy naming one principal or
        # resource would make the cache wrong, so only actions may be named.
        named = {uid for uid in pst.entity_uids(policy) if uid.type.basename != "Action"}
        if named:
            raise PolicyError(
                f"{path.name}: policy {policy_id!r} names a specific entity "
                f"({sorted(uid.id for uid in named)[0]!r}); use attributes instead"
            )
        infos.append(
            PolicyInfo(policy_id, annotations["reason"], annotations.get("break_glass") == "true")
        )
    return infos
