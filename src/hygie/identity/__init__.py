"""The patient's identity: the INS (NIR or NIA) and its traits, the RNIV identity statuses,
the INSi teleservice, and identity vigilance (duplicates, merges).

Modules: ``ins`` (the number and its checks), ``patient`` (reading them off a FHIR
Patient), ``status`` (provisoire, récupérée, validée, qualifiée), ``insi`` (the
teleservice's client interface and a local implementation), ``qualification`` (adding a
proof to a Patient), ``sharing`` (the INS travels once qualifiée), ``vigilance``
(duplicate suspects, merges), ``fhir_rules`` (the FHIR API's INS check, given to the
store by the composition root).
"""
