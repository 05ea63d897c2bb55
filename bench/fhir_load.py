"""FHIR R4 load benchmark; see bench/README.md. Usage: uv run python bench/fhir_load.py -h"""

import sys

from fhirload import main

if __name__ == "__main__":
    sys.exit(main())
