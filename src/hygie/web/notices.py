"""The confirmations shown after a form succeeded (POST-redirect-GET carries only a key)."""

from __future__ import annotations

from starlette.requests import Request

NOTICES = {
    "ajoute": "Le document a été ajouté à votre dossier.",
    "ajoute-pro": "Le document a été ajouté au dossier du patient.",
    "masque": "Le document est maintenant masqué aux professionnels (sauf à son auteur).",
    "affiche": "Le document est de nouveau visible par les professionnels qui vous suivent.",
    "bloque": "Ce professionnel ne peut plus accéder à votre dossier.",
    "debloque": "Ce professionnel peut de nouveau accéder à votre dossier s'il vous suit.",
    "urgence-interdite": "L'accès en urgence (bris de glace) à votre dossier est interdit.",
    "urgence-autorisee": (
        "L'accès en urgence (bris de glace) à votre dossier est de nouveau possible."
    ),
    "profil": "L'information a été ajoutée au profil médical.",
    "urgence": "Accès en urgence ouvert pour une heure. Le patient en est informé.",
}


def notice_of(request: Request) -> str:
    return NOTICES.get(request.query_params.get("fait", ""), "")
