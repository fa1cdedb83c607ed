"""The org's details: `GET /crm/v8/org` (OAS org.json: `{"org": [{id, company_name, primary_email,
type, currency, time_zone, license_details, ...}]}`), from the settings' edition and user count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .http import jresp
from .settings import org_type

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer


async def org(server: ZohoServer, request: Request) -> Response:
    await server.guard(request, "org")
    server.commit()
    store = server.store
    s = store.settings
    admin = store.current_user()
    active = sum(1 for u in store.users if u["status"] == "active")
    org = {"id": store.kv["org_id"], "company_name": s["company_name"], "alias": None,
           "primary_email": admin["email"], "primary_zuid": admin["zuid"], "zgid": store.zgid(),
           "domain_name": "org" + store.kv["org_id"][-9:], "type": org_type(s), "currency": "US Dollar",
           "currency_symbol": "$", "iso_code": "USD", "currency_locale": "en_US", "time_zone": "Etc/UTC",
           "country_code": "US", "country": "United States", "mc_status": False, "gapps_enabled": False,
           "privacy_settings": False, "hipaa_compliance_enabled": True, "translation_enabled": False,
           "license_details": {"paid": s["edition"] != "Free", "paid_type": s["edition"].lower(), "paid_expiry": None,
                               "trial_type": None, "trial_expiry": None, "trial_action": None,
                               "users_license_purchased": s.get("user_count") or active}}
    return jresp({"org": [org]}, headers=server.credit_headers())
