"""The generic clinic export generator: `generate_export(out_dir, patients, seed)`."""

from clinic2zoho.generator.export import COLUMNS, generate_export
from clinic2zoho.generator.model import (
    DuplicatePair,
    GeneratedExport,
    InjectedCases,
    InjectedValue,
    MalformedRow,
)

__all__ = ["COLUMNS", "DuplicatePair", "GeneratedExport", "InjectedCases", "InjectedValue", "MalformedRow",
           "generate_export"]
