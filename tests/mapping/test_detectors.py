"""Value detectors: what a column's values are, read from the values alone."""

from __future__ import annotations

from collections import Counter

import pytest

from clinic2zoho.mapping.detectors import amount_format, amount_shape, boolean_values, date_shape, npi_valid, \
    profile_values, read_country, read_state
from clinic2zoho.mapping.value_words import clinic_value, flag_values, value_map


def test_a_first_part_over_12_makes_the_column_day_first():
    shape = date_shape(Counter(["03/04/2020", "25/12/2019", "01/02/2021"]))
    assert (shape.order, shape.decisive, shape.ambiguous) == ("DMY", 1, False)


def test_a_second_part_over_12_makes_the_column_month_first_with_a_12_hour_clock():
    shape = date_shape(Counter(["12/25/2019 03:30 PM", "01/02/2021 09:00 AM"]))
    assert (shape.order, shape.with_time, shape.twelve_hour) == ("MDY", 1.0, True)


def test_iso_dates_stay_year_first_despite_a_few_defects():
    shape = date_shape(Counter({"2020-01-05": 50, "2019-12-31 10:00:00": 10, "13/07/1982": 1}))
    assert shape.order == "YMD"
    assert shape.contradicting == 1


def test_dates_no_value_decides_are_ambiguous_and_dotted_ones_day_first():
    assert date_shape(Counter(["01/02/2020", "03/04/2021"])).ambiguous
    assert date_shape(Counter(["01/02/2020", "03/04/2021"])).order is None
    dotted = date_shape(Counter(["01.02.2020", "03.04.2021"]))
    assert dotted.ambiguous and dotted.order == "DMY"


@pytest.mark.parametrize("number, fmt", [("1.234,50", "decimal_comma"), ("12,00", "decimal_comma"),
                                         ("1,234.50", "decimal_point"), ("12.5", "decimal_point"),
                                         ("1,234", None), ("100", None)])
def test_the_last_separator_decides_the_decimal_mark(number, fmt):
    assert amount_format(number) == fmt


def test_amounts_with_currency_symbols_and_decimal_commas():
    shape = amount_shape(Counter(["1.234,50 €", "12,00 €", "0,00 €", "-3,10 €"]))
    assert (shape.share, shape.format, shape.currency) == (1.0, "decimal_comma", True)
    assert amount_shape(Counter(["$1,234.50", "$12.00"])).format == "decimal_point"


def test_npi_check_digit():
    assert npi_valid("1234567893")  # the example NPI of the CMS specification
    assert not npi_valid("1234567890")
    assert not npi_valid("123456789")


def test_profile_shares_by_kind():
    emails = profile_values(["a@example.com", "b@example.org", "", None, "not an address"])
    assert (emails.rows, emails.non_null) == (5, 3)
    assert emails.share("email") == pytest.approx(2 / 3)
    phones = profile_values(["(617) 555-0100", "+1 617 555 0101", "617-555-0102"])
    assert phones.share("phone") == 1.0
    zips = profile_values(["02139", "02144", "90210-1234"])
    assert zips.share("postal_code") == 1.0 and zips.postal_countries["US"] == 3
    states = profile_values(["VIC", "NSW", "Victoria", "QLD"])
    assert states.share("state") == 1.0
    assert profile_values(["PT001", "PT002", "PT003"]).unique


def test_sex_codes_are_not_taken_for_a_flag_but_y_n_is():
    assert not boolean_values(profile_values(["F", "M", "F"]))
    assert boolean_values(profile_values(["Y", "N", "Y"]))
    assert boolean_values(profile_values(["ja", "nein"]))
    assert profile_values(["männlich", "weiblich"]).share("sex") == 1.0


def test_countries_and_states_in_several_languages():
    assert read_country("Deutschland") == "DE"
    assert read_country("España") == "ES"
    assert read_country("United States") == "US"
    assert read_country("Warrnambool (C)") is None  # a county is not a country
    assert read_state("Victoria") == ("AU", "VIC")
    assert read_state("Bayern") == ("DE", "BY")
    assert read_state("WA", "AU") == ("AU", "WA")


@pytest.mark.parametrize("entity, column, vendor, clinic", [
    ("appointments", "outcome", "DNA", "no-show"), ("appointments", "outcome", "did not attend", "no-show"),
    ("appointments", "outcome", "ATT", "completed"), ("appointments", "outcome", "Arrived", "completed"),
    ("appointments", "outcome", "CXL", "cancelled"), ("appointments", "outcome", "SCH", "scheduled"),
    ("appointments", "outcome", "NO_SHOW", "no-show"), ("appointments", "outcome", "nicht erschienen", "no-show"),
    ("patients", "sex", "Male", "M"), ("patients", "sex", "männlich", "M"), ("patients", "sex", "mujer", "F"),
    ("patients", "status", "Verstorben", "Deceased"), ("patients", "status", "I", "Inactive"),
    ("insurance_plans", "priority", "S", "secondary"), ("claims", "status", "Partially Paid", "partially_paid"),
])
def test_vendor_values_read_as_clinic_values(entity, column, vendor, clinic):
    assert clinic_value(entity, column, vendor) == clinic


def test_a_value_map_leaves_out_what_it_cannot_map_and_counts_it():
    values, mapped, hit, miss = value_map("appointments", "outcome",
                                          Counter({"ATT": 10, "completed": 5, "Rescheduled by phone": 2}))
    assert values == {"ATT": "completed"}  # a value already the clinic's needs no entry
    assert (mapped, hit, miss) == (2, 15, 2)


def test_a_flag_reads_active_unless_its_header_says_inactive():
    assert flag_values("Active") == {"true": "active", "false": "inactive"}
    assert flag_values("Inactive") == {"true": "inactive", "false": "active"}
