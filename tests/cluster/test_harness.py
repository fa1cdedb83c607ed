"""The harness's own behaviour that needs no running cluster: the skip reason when a service is
missing, secrets kept out of messages, and what a failed run reports."""

from __future__ import annotations

import pytest

from tests.cluster.harness import RunResult, free_port, services_unavailable


def test_missing_postgres_is_named_as_the_reason_to_skip(monkeypatch):
    monkeypatch.setenv("CLUSTER_TEST_POSTGRES", f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/postgres")
    reason = services_unavailable()
    assert reason is not None and reason.startswith("PostgreSQL does not answer at postgresql://postgres:***@127.0.0.1")
    assert "s3cret" not in reason


def test_missing_redis_is_named_as_the_reason_to_skip(monkeypatch):
    if services_unavailable() is not None:
        pytest.skip("needs the loopback PostgreSQL to reach the Redis check")
    monkeypatch.setenv("CLUSTER_TEST_REDIS", f"redis://127.0.0.1:{free_port()}")
    reason = services_unavailable()
    assert reason is not None and reason.startswith("Redis does not answer at redis://127.0.0.1:")


def test_a_failed_run_reports_its_states_and_the_failed_task_logs():
    result = RunResult("d", "r1", "failed", {"a": "success", "b[0]": "failed"},
                       [{"task_id": "a", "map_index": -1, "hostname": "worker-a"},
                        {"task_id": "b", "map_index": 0, "hostname": "worker-b"}],
                       3.0, {"b[0]": "IOException: Could not set lock on file"})
    assert not result.ok
    assert result.hostnames() == {"a": "worker-a", "b[0]": "worker-b"}
    with pytest.raises(AssertionError, match=r"d run r1 ended failed(.|\n)*--- b\[0\] ---\nIOException"):
        result.assert_success()
