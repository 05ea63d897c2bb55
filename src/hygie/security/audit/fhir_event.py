"""An audit entry as a FHIR R4 AuditEvent in the IHE BALP shape (Basic Audit Log Patterns).

https://profiles.ihe.net/ITI/BALP/: RESTful interactions are type ``rest`` with the
restful-interaction code as subtype; sign-ins are DICOM 110114 User Authentication / 110122
Login; token issue is User Authentication with IUA's ITI-71 Get Access Token; admin actions
are DICOM 110113 Security Alert / 110129 Security Configuration. The requesting agent is
``requestor: true`` and carries the deciding policy; the app is a second agent (DICOM
110150 Application); Hygie is the source observer; the resource is an entity with ``what``
and the patient an entity of role 1 'Patient'.
"""

from __future__ import annotations

from typing import Any

from hygie.security.audit.entry import AuditEntry, Outcome, format_time

DCM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
IHE_EVENT_TYPE = "urn:ihe:event-type-code"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ZONE_EXTENSION = "urn:hygie:audit:network-zone"
ACTOR_SYSTEM = "urn:hygie:actor:"
CLIENT_SYSTEM = "urn:hygie:client"

# http://hl7.org/fhir/R4/valueset-type-restful-interaction.html
_REST_INTERACTIONS = frozenset(
    {
        "read",
        "vread",
        "update",
        "patch",
        "delete",
        "history",
        "history-instance",
        "history-type",
        "history-system",
        "create",
        "search",
        "search-type",
        "search-system",
        "capabilities",
        "transaction",
        "batch",
        "operation",
    }
)
# AuditEvent.action: searches, history and operations are "E" (execute), as BALP's query.
_REST_ACTION = {
    "create": "C",
    "read": "R",
    "vread": "R",
    "update": "U",
    "patch": "U",
    "delete": "D",
}

_OUTCOME = {Outcome.PERMIT: "0", Outcome.SUCCESS: "0", Outcome.DENY: "4", Outcome.FAILURE: "4"}


def to_audit_event(entry: AuditEntry, index: int) -> dict[str, Any]:
    """The AuditEvent for the entry at ``index`` (its id is ``audit-<index>``)."""
    type_, subtype, action = _classify(entry)
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"audit-{index}",
        "type": type_,
        "action": action,
        "recorded": format_time(entry.time),
        "outcome": _OUTCOME[entry.outcome],
        "agent": _agents(entry),
        "source": {
            "site": "Hygie",
            "observer": {"display": "Hygie audit log"},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
    }
    if subtype is not None:
        event["subtype"] = [subtype]
    if entry.reason:
        event["outcomeDesc"] = entry.reason
    purposes = _purposes(entry)
    if purposes:
        event["purposeOfEvent"] = purposes
    entities = _entities(entry)
    if entities:
        event["entity"] = entities
    return event


def _classify(entry: AuditEntry) -> tuple[dict[str, str], dict[str, str] | None, str]:
    verb = entry.action.split(".", 1)[1]
    if entry.family == "fhir" or entry.family == "consent":
        interaction = "update" if entry.family == "consent" else verb
        subtype = (
            {"system": RESTFUL_INTERACTION, "code": interaction}
            if interaction in _REST_INTERACTIONS
            else None
        )
        rest = {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "Restful Operation"}
        return rest, subtype, _REST_ACTION.get(interaction, "E")
    authentication = {"system": DCM, "code": "110114", "display": "User Authentication"}
    if entry.family == "auth":
        login = {"signin": ("110122", "Login"), "signout": ("110123", "Logout")}.get(verb)
        subtype = None if login is None else {"system": DCM, "code": login[0], "display": login[1]}
        return authentication, subtype, "E"
    if entry.family == "token":
        token = {"system": IHE_EVENT_TYPE, "code": "ITI-71", "display": "Get Access Token"}
        return authentication, token, "E"
    alert = {"system": DCM, "code": "110113", "display": "Security Alert"}
    configuration = {"system": DCM, "code": "110129", "display": "Security Configuration"}
    return alert, configuration, "E"


def _agents(entry: AuditEntry) -> list[dict[str, Any]]:
    actor = entry.actor
    who: dict[str, Any]
    if "/" in actor.id and actor.id.split("/", 1)[0][:1].isupper():
        who = {"reference": actor.id}
    else:
        who = {"identifier": {"system": ACTOR_SYSTEM + actor.kind.value, "value": actor.id}}
    if actor.display:
        who["display"] = actor.display
    requestor: dict[str, Any] = {
        "type": {
            "coding": [
                {"system": PARTICIPATION, "code": "IRCP", "display": "information recipient"}
            ]
        },
        "who": who,
        "requestor": True,
    }
    if entry.policy_id:
        requestor["policy"] = [f"urn:hygie:policy:{entry.policy_id}"]
    if entry.network_zone:
        requestor["extension"] = [{"url": ZONE_EXTENSION, "valueCode": entry.network_zone}]
    agents = [requestor]
    if entry.client_id:
        agents.append(
            {
                "type": {"coding": [{"system": DCM, "code": "110150", "display": "Application"}]},
                "who": {"identifier": {"system": CLIENT_SYSTEM, "value": entry.client_id}},
                "requestor": False,
            }
        )
    return agents


def _purposes(entry: AuditEntry) -> list[dict[str, Any]]:
    codings = []
    if entry.purpose_of_use:
        codings.append({"system": ACT_REASON, "code": entry.purpose_of_use})
    if entry.break_glass:
        codings.append({"system": ACT_REASON, "code": "BTG", "display": "break the glass"})
    return [{"coding": [coding]} for coding in codings]


def _entities(entry: AuditEntry) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if entry.resource and entry.resource != entry.patient:
        entities.append(
            {
                "what": {"reference": entry.resource},
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
            }
        )
    if entry.patient:
        entities.append(
            {
                "what": {"reference": entry.patient},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    return entities
