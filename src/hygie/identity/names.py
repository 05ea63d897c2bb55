"""Comparing French names: a plain form (INSi's character set) and a phonetic key.

The phonetic key is written here rather than taken from a library: the well-kept ones
(Soundex, Metaphone and their ports) encode English, and the French variants a reception
desk produces are few and known: accents, doubled letters, silent endings (Dupont,
Dupond), ph/f, y/i, eau/au/o, ai/ei/é, c/k/qu, ge/je, the Lefèvre/Lefebvre bv.
"""

from __future__ import annotations

import re
import unicodedata

# Applied in order to the plain upper-case name, spaces removed.
_SOUNDS = [
    (re.compile(r"(?<=.)[EST]+$"), ""),  # silent endings: Dupont, Thomas, Hélène
    (re.compile(r"(?<=.)[DXZ]$"), ""),  # Dupond, Giraud, Rioux, Chez
    (re.compile(r"CH(?=[LR])"), "K"),  # Chloé, Christophe
    (re.compile(r"SCH"), "Ç"),  # Ç: the "ch" sound, out of reach of the rules below
    (re.compile(r"CH"), "Ç"),
    (re.compile(r"PH"), "F"),
    (re.compile(r"GU(?=[EIY])"), "G"),
    (re.compile(r"GE(?=[AOU])"), "J"),
    (re.compile(r"G(?=[EIY])"), "J"),
    (re.compile(r"QU|Q|CK"), "K"),
    (re.compile(r"C(?=[EIY])"), "S"),
    (re.compile(r"C"), "K"),
    (re.compile(r"X"), "KS"),
    (re.compile(r"EAU|AU"), "O"),
    (re.compile(r"AI|EI|AY|EY"), "E"),
    (re.compile(r"Y"), "I"),
    (re.compile(r"W"), "V"),
    (re.compile(r"Z"), "S"),
    (re.compile(r"BV"), "V"),
    (re.compile(r"H"), ""),
    (re.compile(r"E[NM](?![AEIOU])|A[NM](?![AEIOU])"), "AN"),  # nasal: Laurent, Lorant
    (re.compile(r"(.)\1+"), r"\1"),
]


def plain(text: str) -> str:
    """Upper case, no accents; hyphens and apostrophes read as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[-'\u2019.]", " ", letters.upper()).split())


def phonetic_key(text: str) -> str:
    """Names that sound alike in French share a key (``Lefèvre``, ``LEFEBVRE``)."""
    key = re.sub(r"[^A-Z]", "", plain(text))
    for pattern, replacement in _SOUNDS:
        key = pattern.sub(replacement, key)
    return key
