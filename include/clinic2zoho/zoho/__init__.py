"""The Zoho CRM v8 client: data centres, OAuth, throttling, retries, records, bulk write.

Interface and contract: docs/contracts.md ("Client interface")."""

from clinic2zoho.zoho.client import ZohoClient
from clinic2zoho.zoho.config import DATA_CENTRES, DataCentre, ZohoConfig
from clinic2zoho.zoho.facts import EDITIONS, daily_credit_limit, write_credits
from clinic2zoho.zoho.errors import (
    ZohoAuthError,
    ZohoBulkJobTimeout,
    ZohoError,
    ZohoRateLimited,
    ZohoTerminalError,
    ZohoTransientError,
)
from clinic2zoho.zoho.models import BulkJobPart, BulkJobResult, BulkJobStatus, BulkRowResult, CallEvent, RecordResult

__all__ = [
    "DATA_CENTRES",
    "EDITIONS",
    "BulkJobPart",
    "BulkJobResult",
    "BulkJobStatus",
    "BulkRowResult",
    "CallEvent",
    "DataCentre",
    "RecordResult",
    "ZohoAuthError",
    "ZohoBulkJobTimeout",
    "ZohoClient",
    "ZohoConfig",
    "ZohoError",
    "ZohoRateLimited",
    "ZohoTerminalError",
    "ZohoTransientError",
    "daily_credit_limit",
    "write_credits",
]
