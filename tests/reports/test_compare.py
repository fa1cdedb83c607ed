"""Zoho's representation against the dbt tables' values: the normalisation rules."""

from __future__ import annotations

from decimal import Decimal

from clinic2zoho.reports.compare import compare_line_items, compare_lookup, compare_owner, compare_scalar


def test_datetimes_compare_as_instants_whatever_the_offset():
    assert compare_scalar("2024-03-05T09:00:00-05:00", "2024-03-05T14:00:00+00:00", "datetime").ok
    assert not compare_scalar("2024-03-05T09:00:00-05:00", "2024-03-05T09:00:00+00:00", "datetime").ok
    assert not compare_scalar("2024-03-05T09:00:00", "2024-03-05T09:00:00+00:00", "datetime").ok  # no offset


def test_numbers_dates_booleans_and_blanks():
    assert compare_scalar(Decimal("170.00"), 170.0, "currency").ok
    assert not compare_scalar(Decimal("170.00"), 171.0, "currency").ok
    assert compare_scalar("2024-02-22", "2024-02-22", "date").ok
    assert compare_scalar(True, "true", "boolean").ok
    assert compare_scalar(None, "", "text").ok and not compare_scalar("x", None, "text").ok
    assert compare_scalar("a\r\nb ", "a\nb", "textarea").ok


def test_pick_lists_single_and_multi():
    assert compare_scalar("Active", "Active", "picklist").ok
    assert not compare_scalar("Active", "Inactive", "picklist").ok
    assert compare_scalar("Flu;Covid", ["Covid", "Flu"], "multiselectpicklist").ok


def test_lookups_through_the_crosswalk_and_owners_through_users():
    crosswalk = {"PT1": "100", "PT2": "200"}
    reverse = {v: k for k, v in crosswalk.items()}
    ok = compare_lookup("PT1", {"id": "100", "name": "A"}, crosswalk.get, reverse.get)
    assert ok.ok and ok.actual == "PT1 (id 100)"
    assert not compare_lookup("PT1", {"id": "200", "name": "B"}, crosswalk.get, reverse.get).ok
    assert not compare_lookup("PT9", {"id": "100"}, crosswalk.get, reverse.get).ok
    users = {"7": "dr.a@clinic.example"}
    assert compare_owner("Dr.A@clinic.example", {"id": "7"}, users.get).ok
    assert not compare_owner("dr.b@clinic.example", {"id": "7", "email": "dr.a@clinic.example"}, users.get).ok
    # no provider: Zoho makes the loading user the owner, and that is what is expected
    users["1"] = "admin@clinic.example"
    assert compare_owner(None, {"id": "1"}, users.get, "Admin@clinic.example").ok
    assert not compare_owner(None, {"id": "7"}, users.get, "admin@clinic.example").ok


def test_line_items_compare_lines_and_products_by_id():
    expected = '[{"Product_Name":{"name":"Clinic services"},"Quantity":1,"List_Price":170.0}]'
    actual = [{"id": "9", "Product_Name": {"id": "55"}, "Quantity": 1.0, "List_Price": 170.0, "Total": 170.0}]
    assert compare_line_items(expected, actual, {"Clinic services": "55"}.get).ok
    assert not compare_line_items(expected, [dict(actual[0], List_Price=17.0)], {"Clinic services": "55"}.get).ok
    assert not compare_line_items(expected, [], {"Clinic services": "55"}.get).ok
