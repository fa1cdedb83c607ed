"""The confirmation gate every task that writes to Zoho calls first (rollback is exempt), and the
accounting of every landed column the DAGs' mapping_gate checks with it."""

from clinic2zoho.mapping.column_accounting import ColumnsUnaccounted, require_accounted
from clinic2zoho.mapping.confirmation import MappingNotConfirmed, require_confirmed

__all__ = ["ColumnsUnaccounted", "MappingNotConfirmed", "require_accounted", "require_confirmed"]
