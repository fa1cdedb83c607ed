"""The estimator: credits from counts and the cheaper path, duration under the throttle, days of
the plan's daily credits."""

from __future__ import annotations

from clinic2zoho.loader.estimate import PlanLimits, estimate

from tests.loader.conftest import PLAN


def test_credits_follow_the_path_choice_per_module():
    counts = {"Accounts": 1, "Contacts": 50_300, "Events": 1_000, "Insurance": 4_000, "Notes": 250, "Attachments": 7}
    est = estimate(PLAN, counts, PlanLimits("Enterprise", 10))
    by = {m.module: m for m in est.modules}
    assert (by["Contacts"].bulk_jobs, by["Contacts"].record_calls, by["Contacts"].write_credits) == (2, 3, 1030)
    assert (by["Events"].bulk_jobs, by["Events"].write_credits) == (0, 100)  # Bulk Write refuses Events
    assert (by["Insurance"].bulk_jobs, by["Insurance"].write_credits) == (0, 400)  # below the break-even
    assert by["Attachments"].write_credits == 7  # one upload each
    assert est.minimum_credits == 1 + 1030 + 100 + 400 + 25 + 7
    assert est.credits > est.minimum_credits  # field lists, reads of what exists, bulk polls


def test_duration_is_bound_by_the_per_minute_throttle_and_days_by_daily_credits():
    counts = {"Accounts": 1, "Contacts": 100_000, "Events": 200_000}
    est = estimate(PLAN.select(["Accounts", "Contacts", "Events"]), counts, PlanLimits("Professional", 5, per_minute_credits=2_500))
    assert est.throttle_seconds == est.credits / 2_500 * 60
    assert est.seconds >= est.throttle_seconds
    assert est.limits.daily_credits == 52_500
    assert round(est.days_of_daily_credits, 3) == round(est.credits / 52_500, 3)
    assert est.to_dict()["calendar_days"] == 1
