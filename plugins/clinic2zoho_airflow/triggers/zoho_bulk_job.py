"""Trigger that waits for a Zoho Bulk Write job without holding a worker slot (the dbt Cloud
provider's shape): poll asynchronously until the job is terminal or a wall-clock deadline passes,
then yield exactly one event."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator

from airflow.triggers.base import BaseTrigger, TriggerEvent

from clinic2zoho.zoho.models import BulkJobStatus


class ZohoBulkJobTrigger(BaseTrigger):
    def __init__(self, job_id: str, module: str, end_time: float, zoho_conn_id: str = "zoho_default",
                 poll_interval: float = 10.0):
        super().__init__()
        self.job_id = job_id
        self.module = module
        self.end_time = end_time
        self.zoho_conn_id = zoho_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}", {
            "job_id": self.job_id, "module": self.module, "end_time": self.end_time,
            "zoho_conn_id": self.zoho_conn_id, "poll_interval": self.poll_interval})

    def _status(self, client: Any) -> BulkJobStatus:
        return BulkJobStatus.parse(str(client.bulk_status(self.job_id).get("status", "")))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from clinic2zoho.zoho import ZohoClient
        from clinic2zoho_airflow.hooks.zoho import ZohoHook

        base = {"job_id": self.job_id, "module": self.module}
        try:
            config = await asyncio.to_thread(lambda: ZohoHook(self.zoho_conn_id).config)
            client = ZohoClient(config)
            try:
                while True:
                    # The client is synchronous (httpx, retries, throttle): run each poll in a thread.
                    status = await asyncio.to_thread(self._status, client)
                    if status.is_terminal():
                        yield TriggerEvent({**base, "status": status.value})
                        return
                    if time.time() > self.end_time:
                        yield TriggerEvent({**base, "status": "timeout",
                                            "message": f"bulk job {self.job_id} of {self.module} still {status.value}"
                                                       " at the deadline; a retry re-attaches to it"})
                        return
                    await asyncio.sleep(self.poll_interval)
            finally:
                client.close()
        except Exception as exc:  # one event, always
            yield TriggerEvent({**base, "status": "error", "message": str(exc)})
