"""Password rules (after ANSSI's 2021 recommendations on authentication) and hashing.

Rules: 12 to 256 characters, at least 3 of the 4 character classes, not containing the
username, and not one of the most common passwords, also when dressed up with capitals,
leetspeak (``P@ssw0rd``) or digits and symbols around it (``Motdepasse2024!``). The upper
bound keeps a sign-in from costing more than one ordinary hash.

Hashes are argon2id (argon2-cffi's defaults: RFC 9106's low-memory profile, 64 MiB, t=3,
p=4). The PHC string carries its parameters, so stronger ones can be rolled out by changing
the hasher: each hash is upgraded at its owner's next successful sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_CLASSES = 3

# Base words of the most used passwords (public breach lists, French and English), lower case.
COMMON_PASSWORDS = frozenset(
    """
    password passw0rd motdepasse mdp azerty azertyuiop azertyuiop123 qwerty qwertyuiop
    qwertz abc abcdef abcdefgh abcdefghijkl abcd azer qsdfghjklm wxcvbn aqwzsx
    iloveyou jetaime jetadore welcome bienvenue bonjour bonsoir salut coucou hello
    admin administrator administrateur root user utilisateur login connexion
    letmein changeme secret motdepassesecret default test testing demo guest invite
    soleil doudou chouchou loulou minou nounours bisou amour tresor cheri cherie
    marseille paris lyon toulouse france olympique psg football baseball basketball
    monkey dragon master shadow sunshine princess superman batman starwars pokemon
    chocolat vanille fraise nutella pomme banane
    nicolas thomas julien camille marie sophie pierre jean alexandre antoine maxime
    michael charlie jordan jennifer jessica
    hopital hospital sante medecin docteur doctor infirmier infirmiere patient
    clinique pharmacie urgence hygie
    trustno summer winter automne printemps hiver ete
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)

MESSAGES = {
    "too_short": f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères.",
    "too_long": f"Le mot de passe ne doit pas dépasser {MAX_LENGTH} caractères.",
    "classes": (
        "Le mot de passe doit mélanger au moins 3 des 4 types de caractères : minuscules, "
        "majuscules, chiffres et caractères spéciaux."
    ),
    "username": "Le mot de passe ne doit pas contenir l'identifiant.",
    "common": "Ce mot de passe est trop courant : choisissez-en un moins prévisible.",
    "unchanged": "Le nouveau mot de passe doit être différent de l'ancien.",
}


def default_hasher() -> PasswordHasher:
    return PasswordHasher()


def password_problems(password: str, username: str) -> list[str]:
    """One French message per rule ``password`` breaks; empty when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(MESSAGES["too_short"])
    if len(password) > MAX_LENGTH:
        problems.append(MESSAGES["too_long"])
    if _classes(password) < MIN_CLASSES:
        problems.append(MESSAGES["classes"])
    if username and username.lower() in password.lower():
        problems.append(MESSAGES["username"])
    if _is_common(password):
        problems.append(MESSAGES["common"])
    return problems


def _classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not c.isalnum() for c in password)
    return lower + upper + digit + other


def _is_common(password: str) -> bool:
    lowered = password.lower()
    # Strip the digits and symbols people add before or after a word to pass the rules.
    core = lowered.strip("".join(c for c in set(lowered) if not c.isalpha()))
    return any(word in COMMON_PASSWORDS for word in (lowered, core, core.translate(_LEET)))
