"""The confirmation gate every task that writes to Zoho calls first (rollback is exempt)."""

from clinic2zoho.mapping.confirmation import MappingNotConfirmed, require_confirmed

__all__ = ["MappingNotConfirmed", "require_confirmed"]
