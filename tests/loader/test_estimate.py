"""The estimator: credits from counts and the cheaper path, duration under the throttle, days of
the plan's daily credits."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic2zoho.loader import bulk_steps, load_bulk, module_loader
from clinic2zoho.loader.estimate import LOCAL_SERVER, LoaderTimes, PlanLimits, ServerTimes, estimate, on_machine, paced_seconds
from clinic2zoho.loader.module_loader import LoadContext, LoadSettings

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
    # 2,500 at once, then 2,500 more each minute as they age out: the last lot goes after
    # (lots - 1) minutes, whatever the speed of everything else
    lots = -(-est.credits // 2_500)
    assert est.throttle_seconds == (lots - 1) * 60
    assert est.seconds >= est.throttle_seconds
    assert est.limits.daily_credits == 52_500
    assert round(est.days_of_daily_credits, 3) == round(est.credits / 52_500, 3)
    assert est.to_dict()["calendar_days"] == 1


def test_a_load_that_fits_in_one_minutes_budget_is_not_slowed_by_the_throttle():
    counts = {"Accounts": 2, "Contacts": 1_000, "Events": 2_000, "Insurance": 500, "Notes": 1_000, "Attachments": 100}
    free = estimate(PLAN, counts, PlanLimits("Enterprise", 10))
    paced = estimate(PLAN, counts, PlanLimits("Enterprise", 10, per_minute_credits=10_000))
    assert paced.credits < 10_000 and paced.throttle_seconds == 0
    assert paced.seconds == pytest.approx(free.seconds)
    tight = estimate(PLAN, counts, PlanLimits("Enterprise", 10, per_minute_credits=paced.credits // 2))
    assert tight.seconds >= 60  # the second half waits for the first to age out


def test_calls_wait_for_credits_to_age_out_and_what_follows_waits_as_long():
    # 600 credits at once, 600 more half a second later: under 1,000 a minute the second lot
    # waits for the first to age out (60 s), and the phase's last half second follows it
    assert paced_seconds([(1.0, [(0.0, 600), (0.5, 600)])], 1_000) == 60.5
    assert paced_seconds([(1.0, [(0.0, 600), (0.5, 600)])], None) == 1.0
    # a later phase starts when the earlier one has ended; its credits meet the same minute
    assert paced_seconds([(1.0, [(0.0, 600)]), (1.0, [(0.0, 600)])], 1_000) == 61.0


def test_a_group_takes_turns_on_one_machine_with_a_local_server_and_overlaps_on_zoho():
    plan = PLAN.select(["Events", "Notes"])  # their parents outside the plan: one group
    assert plan.groups() == [["Events", "Notes"]]
    for server, together in ((LOCAL_SERVER, "adds up"), (ServerTimes(), "overlaps")):
        limits = PlanLimits("Enterprise", 10, server=server)
        run = limits.loader.run_seconds
        alone = [estimate(plan, counts, limits).seconds - run
                 for counts in ({"Events": 40_000, "Notes": 0}, {"Events": 0, "Notes": 20_000})]
        both = estimate(plan, {"Events": 40_000, "Notes": 20_000}, limits).seconds - run
        if together == "adds up":
            assert both >= 0.9 * sum(alone)
        else:
            assert both <= 1.1 * max(alone)


def test_a_slower_machine_slows_the_machines_work_and_not_the_waits():
    counts = {"Accounts": 2, "Contacts": 20_000, "Events": 40_000, "Insurance": 10_000, "Notes": 20_000,
              "Attachments": 2_000}
    twice = on_machine(LOCAL_SERVER, LoaderTimes(), 2.0)
    local = PlanLimits("Enterprise", 10, server=LOCAL_SERVER)
    slower = PlanLimits("Enterprise", 10, server=twice[0], loader=twice[1])
    # calls only, to a server on the loader's machine: all of it is the machine's work
    assert estimate(PLAN, counts, slower, force_path="record").seconds == pytest.approx(
        2 * estimate(PLAN, counts, local, force_path="record").seconds)
    # bulk jobs: their start delay and the poll schedule are waits, the same on any machine
    with_bulk = estimate(PLAN, counts, local)
    assert with_bulk.seconds < estimate(PLAN, counts, slower).seconds < 2 * with_bulk.seconds
    # real Zoho answers as fast whatever the loader's machine: only the loader's share grows
    zoho, zoho_twice = ServerTimes(), on_machine(ServerTimes(), LoaderTimes(), 2.0)
    assert zoho_twice[0] == zoho
    on_zoho = estimate(PLAN, counts, PlanLimits("Enterprise", 10, server=zoho)).seconds
    assert on_zoho < estimate(PLAN, counts, PlanLimits("Enterprise", 10, server=zoho, loader=zoho_twice[1])).seconds \
        < 2 * on_zoho


def test_a_bulk_job_is_seen_finished_when_the_loader_polls_it(monkeypatch):
    """The estimate's poll schedule is the loader's: a job finishing after 1.7 s, polled by
    BulkLoad.poll on a fake clock, is seen when noticed_after says, after as many polls."""

    class Clock:
        now = 0.0

        def monotonic(self):
            return self.now

        def sleep(self, seconds):
            self.now += seconds

    clock, polls = Clock(), []

    class Client:
        def bulk_status(self, job_id):
            polls.append(clock.now)
            return {"status": "COMPLETED" if clock.now >= 1.7 else "IN PROGRESS"}

    monkeypatch.setattr(load_bulk, "time", clock)
    settings = LoadSettings(poll_initial=0.5, poll_max=10.0)
    ctx = LoadContext(client=Client(), journal_root=Path("unused"), run_id="r", source=None, settings=settings)
    loader = module_loader.ModuleLoader(ctx, PLAN.spec("Contacts"))
    load_bulk.BulkLoad(loader).poll("job")
    assert (clock.now, len(polls)) == pytest.approx(bulk_steps.noticed_after(1.7, 0.5, 10.0))
    assert clock.now >= 1.7 and polls[-2] < 1.7
