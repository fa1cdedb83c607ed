"""The org's edition and licensed users, read from the org instead of assumed.

`GET /crm/v8/org` → `org[0].license_details` (OAS org.json, License_Details: paid, paid_type,
trial_type, trial_expiry, users_license_purchased). Zoho's documented answers show a paid org as
`{"paid": true, "paid_type": "enterprise"}` and an org on trial as `{"paid": false, "paid_type":
"free", "trial_type": "enterprise", "trial_expiry": ...}` (Zoho's "Get Organization Information"
pages, https://www.zoho.com/developer/help/scripting/get-org-info.html and
https://www.zoho.com/deluge/help/crm/get-org-info.html).

*unverified*: whether an org on trial gets its trial edition's API credits. The stricter reading is
taken by default: the edition paid for (`paid_type`), the trial edition only when asked
(`trial_counts=True`). A `paid_type` naming no edition of the credit table (a bundle such as Zoho
One or CRM Plus) is refused rather than guessed: give the edition explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinic2zoho.zoho.facts import canonical_edition


class EditionUnknown(ValueError):
    """The org's answer names no edition the credit table knows."""


@dataclass(frozen=True)
class OrgEdition:
    edition: str  # canonical: Free, Standard, Professional, Enterprise, Ultimate
    user_count: int | None  # users_license_purchased
    source: str  # "license_details.paid_type", "license_details.trial_type" or "given"
    paid: bool | None
    trial_type: str | None = None
    trial_expiry: str | None = None

    def describe(self) -> str:
        trial = f", on trial of {self.trial_type} until {self.trial_expiry}" if self.trial_type and not self.paid else ""
        users = f", {self.user_count} licensed users" if self.user_count is not None else ""
        return f"{self.edition} (from {self.source}{users}{trial})"


def edition_of(org: dict[str, Any], *, trial_counts: bool = False) -> OrgEdition:
    """The edition in an org record (`GET /org`'s org[0])."""
    lic = org.get("license_details") or {}
    paid = lic.get("paid")
    users = lic.get("users_license_purchased")
    trial_type = lic.get("trial_type") or None
    trial_expiry = lic.get("trial_expiry") or None
    if trial_counts and not paid and trial_type:
        name, source = str(trial_type), "license_details.trial_type"
    else:
        name, source = str(lic.get("paid_type") or ""), "license_details.paid_type"
    if not name:
        raise EditionUnknown("the org's answer holds no license_details.paid_type: give the edition explicitly")
    try:
        edition = canonical_edition(name)
    except ValueError:
        raise EditionUnknown(f"the org's {source} is {name!r}, not an edition of Zoho's credit table "
                             "(Free, Standard, Professional, Enterprise, Ultimate): give the edition explicitly") from None
    return OrgEdition(edition, int(users) if users is not None else None, source, paid, trial_type, trial_expiry)


def org_edition(client: Any, given: str | None = None, *, trial_counts: bool = False) -> OrgEdition:
    """The edition to plan with: `given` when a person named one, else the org's (GET /org, read
    once per client). One function for `migrate`, `load` and `clinic2zoho doctor`."""
    if given:
        return OrgEdition(canonical_edition(given), None, "given", None)
    return edition_of(client.current_org(), trial_counts=trial_counts)


def config_with_org_edition(config: Any, given: str | None = None, users: int | None = None) -> tuple[Any, OrgEdition]:
    """`config` (a ZohoConfig) with the edition and licensed users read from its org (one GET /org
    with a short-lived client), unless given. The edition the config held before is only the
    provisional one the read itself runs under."""
    from dataclasses import replace

    from clinic2zoho.zoho.client import ZohoClient

    if given:
        found = OrgEdition(canonical_edition(given), users, "given", None)
    else:
        with ZohoClient(config) as client:
            found = org_edition(client)
    return replace(config, edition=found.edition,
                   user_count=users if users is not None else (found.user_count or config.user_count)), found
