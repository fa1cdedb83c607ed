"""Landing: read a clinic export (Synthea CSV, FHIR Bulk NDJSON, generic CSV) into DuckDB schema
`raw`, unchanged in content, with lineage, rejects and per-file row conservation.

    from clinic2zoho.landing import land_export, land_users, LandingResult
"""

from __future__ import annotations

from .api import detect_format, land_export
from .errors import LandingError
from .result import FileLoad, LandingResult
from .users import land_users

__all__ = ["land_export", "land_users", "detect_format", "LandingResult", "FileLoad", "LandingError"]
