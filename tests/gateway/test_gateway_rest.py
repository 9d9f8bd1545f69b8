"""The Dask Gateway REST API as the User Batch proxy uses it, against the real server."""

from __future__ import annotations

import time


def test_options_name_what_a_job_may_ask_for(gateway):
    status, body = gateway.api("GET", "options")
    assert status == 200
    fields = {f["field"]: f["spec"] for f in body["cluster_options"]}
    assert fields["worker_cores"] == {"type": "int", "min": 1, "max": 4}
    assert fields["worker_memory"] == {"type": "float", "min": 0.25, "max": 4.0}
    # what the User Batch proxy passes besides: the job's worker cap and its id
    assert fields["max_workers"] == {"type": "int", "min": 1, "max": 4}
    assert fields["user_batch_job"] == {"type": "string"}


def test_create_run_list_delete(gateway, clusters):
    t0 = time.monotonic()
    name = clusters.create(worker_cores=1, worker_memory=0.5)
    info = gateway.wait_status(name, "RUNNING")
    started = time.monotonic() - t0
    assert info["options"] == {
        "worker_cores": 1,
        "worker_memory": 0.5,
        "max_workers": 4,
        "user_batch_job": "",
    }
    assert started < 30, f"cluster took {started:.1f} s to start"
    print(f"cluster {name} RUNNING after {started:.1f} s")

    assert name in gateway.clusters("RUNNING")

    status, _ = gateway.api("DELETE", f"clusters/{name}")
    assert status == 204
    stopped = gateway.wait_status(name, "STOPPED", timeout=30)
    assert stopped["stop_time"] is not None
    assert name not in gateway.clusters("RUNNING")
    assert name in gateway.clusters("STOPPED")


def test_bad_options_are_refused_with_the_gateways_reason(gateway):
    before = set(gateway.clusters())
    status, body = gateway.api("POST", "clusters/", {"cluster_options": {"worker_cores": 64}})
    assert status == 422
    assert body == {"error": "worker_cores must be <= 4.000000, got 64"}

    status, body = gateway.api("POST", "clusters/", {"cluster_options": {"worker_memory": "lots"}})
    assert status == 422
    assert body["error"] == "worker_memory must be a float, got 'lots'"
    assert set(gateway.clusters()) == before  # nothing was started


def test_scale_past_the_limit_is_capped_with_a_reason(gateway, clusters):
    name = clusters.create()
    gateway.wait_status(name, "RUNNING")
    status, body = gateway.api("POST", f"clusters/{name}/scale", {"count": 9})
    assert status == 200
    assert body["ok"] is False
    assert "exceed resource limit of 4 workers" in body["msg"]
