"""user_batch.dask_client(): a real gateway cluster from the environment, else a LocalCluster."""

from __future__ import annotations

import numpy as np
import pytest

import user_batch
from user_batch import dask as ub_dask

ALL_VARS = [
    ub_dask.ENV_ADDRESS,
    ub_dask.ENV_PROXY_ADDRESS,
    ub_dask.ENV_CLUSTER,
    ub_dask.ENV_AUTH,
    ub_dask.ENV_USER,
    ub_dask.ENV_SECRET_FILE,
    "USER_BATCH_CPUS",
    "USER_BATCH_MEMORY_MB",
]


@pytest.fixture
def env(monkeypatch):
    """A clean environment for dask_client(), and Dask's gateway config put back afterwards."""
    import dask
    import dask_gateway  # noqa: F401  registers the "gateway" config

    for var in ALL_VARS:
        monkeypatch.delenv(var, raising=False)
    saved = dask.config.get("gateway")
    yield monkeypatch
    dask.config.set({"gateway": saved})


def _sum_matches_numpy(client) -> None:
    import dask.array as da

    x = np.arange(200_000, dtype="float64").reshape(400, 500)
    total = client.compute(da.from_array(x, chunks=(100, 100)).sum()).result(timeout=60)
    assert total == x.sum()


def test_client_on_a_gateway_cluster(gateway, clusters, env):
    name = clusters.create(worker_cores=1, worker_memory=0.5)
    gateway.wait_status(name, "RUNNING")
    status, body = gateway.api("POST", f"clusters/{name}/scale", {"count": 2})
    assert status == 200 and body["ok"], body
    for key, value in gateway.client_env(name).items():
        env.setenv(key, value)

    client = user_batch.dask_client()
    try:
        client.wait_for_workers(2, timeout=60)
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        assert len(workers) == 2
        assert {w["nthreads"] for w in workers} == {1}
        assert {w["memory_limit"] for w in workers} == {512 * 2**20}  # worker_memory 0.5 GiB
        _sum_matches_numpy(client)
        assert user_batch.dask_client() is client  # reused within the process

        # a user's plain Gateway() reaches the same gateway, with our credentials
        from dask_gateway import Gateway

        # (not closed by hand: dask_gateway 2026.3 closes it again when collected, and that
        # second close fails loudly under distributed 2026.8; left alone it closes once)
        plain = Gateway()
        assert plain.address == gateway.address
        assert name in {c.name for c in plain.list_clusters()}
        del plain
    finally:
        client.close()
        client.cluster.close()  # disconnects; shutdown_on_close is off for a cluster we did not make
    # closing the client leaves the cluster to its owner (the proxy)
    assert name in gateway.clusters("RUNNING")


def test_catalog_partitions_are_read_by_gateway_workers(gateway, clusters, env, catalog):
    import lsdb

    name = clusters.create(worker_cores=1, worker_memory=1)
    gateway.wait_status(name, "RUNNING")
    # one worker: each worker process imports lsdb first, which is slow on 2 busy cores
    gateway.api("POST", f"clusters/{name}/scale", {"count": 1})
    for key, value in gateway.client_env(name).items():
        env.setenv(key, value)
    client = user_batch.dask_client()
    try:
        client.wait_for_workers(1, timeout=60)
        cat = lsdb.open_catalog(catalog)
        # one task per partition, run by the gateway's workers (they read the parquet files)
        rows = client.compute(cat.map_partitions(len)).result(timeout=60)
        assert len(rows) == len(cat.get_healpix_pixels()) and int(rows.sum()) == 5000
        ids = client.compute(cat["id"]).result(timeout=60)
        assert sorted(ids.tolist()) == list(range(1, 5001))
    finally:
        client.close()
        client.cluster.close()


def test_without_a_gateway_a_local_cluster(env):
    env.setenv("USER_BATCH_CPUS", "1")
    env.setenv("USER_BATCH_MEMORY_MB", "1024")
    client = user_batch.dask_client()
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        assert len(workers) == 1
        assert [w["nthreads"] for w in workers] == [1]
        assert [w["memory_limit"] for w in workers] == [1024 * 2**20]
        assert all(w["host"] == "127.0.0.1" for w in workers)
        _sum_matches_numpy(client)
        assert user_batch.dask_client() is client
    finally:
        client.close()
        client.cluster.close()


def test_missing_secret_file_says_which_variable(env, tmp_path):
    env.setenv(ub_dask.ENV_ADDRESS, "http://127.0.0.1:1")
    env.setenv(ub_dask.ENV_CLUSTER, "nope")
    env.setenv(ub_dask.ENV_SECRET_FILE, str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="USER_BATCH_DASK_GATEWAY_SECRET_FILE"):
        user_batch.dask_client()


def test_jupyterhub_auth_reads_the_token_from_the_file(env, tmp_path):
    token = tmp_path / "token"
    token.write_text("abc123\n")
    env.setenv(ub_dask.ENV_ADDRESS, "http://127.0.0.1:1")
    env.setenv(ub_dask.ENV_AUTH, "jupyterhub")
    env.setenv(ub_dask.ENV_SECRET_FILE, str(token))
    config = ub_dask.configure_gateway()
    assert config["gateway.auth.kwargs"] == {"api_token": "abc123"}
    assert config["gateway.proxy-address"] is None  # the gateway's own address then

    import dask

    assert dask.config.get("gateway.address") == "http://127.0.0.1:1"
    assert dask.config.get("gateway.auth.type") == "jupyterhub"


def test_unknown_auth_is_refused_with_the_choices(env):
    env.setenv(ub_dask.ENV_ADDRESS, "http://127.0.0.1:1")
    env.setenv(ub_dask.ENV_AUTH, "kerberos")
    with pytest.raises(RuntimeError, match="use 'basic' or 'jupyterhub'"):
        ub_dask.gateway_config()
