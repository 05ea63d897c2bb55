"""What of a Patient may travel (documents, messages, exports): the INS only once the
identity is qualifiée, as the RNIV requires; before that the INS is an internal aid that
must not be used to identify the patient outside."""

from __future__ import annotations

import copy
from typing import Any

from hygie.identity.ins import INS_SYSTEMS
from hygie.identity.status import IdentityStatus, identity_status


def shareable_patient(patient: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``patient`` with its INS identifiers removed unless it is qualifiée."""
    shared = copy.deepcopy(patient)
    if identity_status(patient) is IdentityStatus.QUALIFIEE:
        return shared
    kept = [i for i in shared.get("identifier", ()) if i.get("system") not in INS_SYSTEMS]
    if kept:
        shared["identifier"] = kept
    else:
        shared.pop("identifier", None)
    return shared
