"""The patient's health record as "Mon espace santé" shows it: shared documents (IHE MHD),
profile, timeline, privacy choices, access history and export."""
