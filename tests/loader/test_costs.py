"""Credit arithmetic: the cheaper path per batch, the minimum and the naive loader."""

from __future__ import annotations

from clinic2zoho.loader import costs
from clinic2zoho.zoho import facts


def test_record_calls_cost_one_credit_per_ten_records():
    assert costs.record_path_credits(100) == 10
    assert costs.record_path_credits(101) == 11  # a second call of one record costs 1
    assert costs.record_path_credits(5) == 1


def test_small_batches_go_by_record_calls_and_large_by_bulk():
    assert costs.choose_path(4_000, True) == costs.PathChoice([], 4_000)
    assert costs.choose_path(6_000, True) == costs.PathChoice([6_000], 0)
    assert costs.choose_path(60_000, False) == costs.PathChoice([], 60_000)


def test_full_bulk_chunks_and_a_small_rest():
    choice = costs.choose_path(25_000 * 2 + 300, True)
    assert choice.bulk_chunks == [25_000, 25_000]
    assert choice.record_rows == 300
    assert choice.credits(overhead=False) == 2 * 500 + 30


def test_bulk_is_about_five_times_cheaper_than_naive_at_full_batches():
    assert costs.naive_credits(25_000) / costs.minimum_credits(25_000, True) == 5


def test_daily_credits_follow_edition_and_users():
    assert facts.daily_credit_limit("Enterprise", 10) == 60_000
    assert facts.daily_credit_limit("Starter", 1_000) == 100_000
    assert facts.edition_concurrency("Professional") == 15
