"""Security core: policy.

The policy decision point (Cedar policies in ``cedar/``, :class:`CedarDecisionPoint`), the
effects of patients' privacy consents, break-the-glass grants and network zones. The list of
actions, with what each means, is the schema ``cedar/schema.cedarschema.json``.
"""

from hygie.security.policy.breakglass import BreakGlassGrant, BreakGlassService
from hygie.security.policy.consent import ConsentEffects, consent_effects
from hygie.security.policy.errors import BreakGlassRefused, ConsentError, PolicyError
from hygie.security.policy.model import FHIR_ACTIONS, Decision, DecisionPoint, ResourceFacts
from hygie.security.policy.pdp import DEFAULT_POLICY_DIR, CedarDecisionPoint
from hygie.security.policy.zones import INTERNET, NetworkZones

__all__ = [
    "DEFAULT_POLICY_DIR",
    "FHIR_ACTIONS",
    "INTERNET",
    "BreakGlassGrant",
    "BreakGlassRefused",
    "BreakGlassService",
    "CedarDecisionPoint",
    "ConsentEffects",
    "ConsentError",
    "Decision",
    "DecisionPoint",
    "NetworkZones",
    "PolicyError",
    "ResourceFacts",
    "consent_effects",
]
