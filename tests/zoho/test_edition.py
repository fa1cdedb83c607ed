"""The org's edition is read from GET /org's license_details, not assumed.

Zoho's documented answers (https://www.zoho.com/developer/help/scripting/get-org-info.html,
https://www.zoho.com/deluge/help/crm/get-org-info.html): a paid org says
`{"paid": true, "paid_type": "enterprise", "users_license_purchased": 10}`, an org on trial
`{"paid": false, "paid_type": "free", "trial_type": "enterprise", "users_license_purchased": 3}`."""

from __future__ import annotations

import pytest

from clinic2zoho import migrate
from clinic2zoho.zoho import ZohoClient
from clinic2zoho.zoho.edition import EditionUnknown, edition_of, org_edition
from tests.zoho.conftest import config_for

PAID = {"license_details": {"paid_expiry": None, "users_license_purchased": 10, "trial_type": None,
                            "trial_expiry": None, "paid": True, "paid_type": "enterprise"}}
TRIAL = {"license_details": {"paid_expiry": None, "users_license_purchased": 3, "trial_type": "enterprise",
                             "trial_expiry": "2023-03-31T15:59:53+05:30", "paid": False, "paid_type": "free"}}


def test_zohos_documented_answers():
    paid = edition_of(PAID)
    assert (paid.edition, paid.user_count, paid.source) == ("Enterprise", 10, "license_details.paid_type")
    trial = edition_of(TRIAL)  # *unverified* whether a trial's credits are its edition's: the stricter reading
    assert (trial.edition, trial.user_count) == ("Free", 3) and "on trial of enterprise" in trial.describe()
    assert edition_of(TRIAL, trial_counts=True).edition == "Enterprise"


def test_an_edition_outside_the_credit_table_is_refused_not_guessed():
    with pytest.raises(EditionUnknown, match="give the edition explicitly"):
        edition_of({"license_details": {"paid": True, "paid_type": "zohoone"}})
    with pytest.raises(EditionUnknown):
        edition_of({})


def test_read_from_the_local_org(zoho_server_factory):
    server = zoho_server_factory("pro", edition="Professional", settings={"user_count": 7})
    with ZohoClient(config_for(server)) as client:
        found = org_edition(client)
        assert (found.edition, found.user_count) == ("Professional", 7)
        assert org_edition(client, "Ultimate").edition == "Ultimate"  # a person's word wins
    config = migrate.zoho_config(server)  # what migrate writes into the Airflow Connection
    assert (config.edition, config.user_count) == ("Professional", 7)
    assert migrate.zoho_config(server, "standard").edition == "Standard"
