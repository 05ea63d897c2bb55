"""French names, places and vital-sign codes the synthetic workload draws from."""

from __future__ import annotations

# Among the most common family names in France (INSEE), accents kept as registered.
FAMILY_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefebvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier",
    "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin",
    "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
    "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc",
    "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
)  # fmt: skip

GIVEN_NAMES = {
    "female": (
        "Marie", "Jeanne", "Françoise", "Monique", "Catherine", "Nathalie", "Isabelle",
        "Sylvie", "Anne", "Christine", "Sandrine", "Céline", "Julie", "Camille", "Léa",
        "Manon", "Chloé", "Emma", "Inès", "Louise", "Jade", "Hélène", "Élodie", "Aurélie",
    ),
    "male": (
        "Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Bernard", "Jacques",
        "Daniel", "Nicolas", "Christophe", "Stéphane", "Laurent", "Julien", "Thomas",
        "Lucas", "Hugo", "Louis", "Gabriel", "Raphaël", "Arthur", "Théo", "Mathéo", "Noé",
    ),
}  # fmt: skip

# (city, postal code)
CITIES = (
    ("Paris", "75013"), ("Lyon", "69003"), ("Marseille", "13005"), ("Toulouse", "31000"),
    ("Nice", "06000"), ("Nantes", "44000"), ("Strasbourg", "67000"), ("Montpellier", "34000"),
    ("Bordeaux", "33000"), ("Lille", "59000"), ("Rennes", "35000"), ("Reims", "51100"),
    ("Saint-Étienne", "42000"), ("Toulon", "83000"), ("Le Havre", "76600"),
    ("Grenoble", "38000"), ("Dijon", "21000"), ("Angers", "49000"), ("Nîmes", "30000"),
    ("Clermont-Ferrand", "63000"), ("Besançon", "25000"), ("Brest", "29200"),
)  # fmt: skip

STREETS = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Pasteur",
    "rue du Général de Gaulle", "place de la Mairie", "rue des Écoles", "allée des Tilleuls",
    "chemin du Moulin", "rue Jules Ferry",
)  # fmt: skip
