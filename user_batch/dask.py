"""The Dask client a batch job (or a notebook) should use: ``dask_client()``.

The environment decides where the work runs. These variables are a contract with the User Batch
proxy, which sets them for jobs on the Dask Gateway backend:

``USER_BATCH_DASK_GATEWAY_ADDRESS``
    The gateway's HTTP address, e.g. ``http://127.0.0.1:8790``. When set, Dask's config is
    pointed at this gateway too, so a plain ``dask_gateway.Gateway()`` in user code reaches it.
``USER_BATCH_DASK_GATEWAY_PROXY_ADDRESS``
    The gateway's scheduler proxy, e.g. ``gateway://127.0.0.1:8791``. Optional: defaults to
    the gateway address (the gateway serves both on one port unless configured otherwise).
``USER_BATCH_DASK_CLUSTER``
    The name of a running gateway cluster to connect to. With the address, ``dask_client()``
    connects to that cluster; without it, ``dask_client()`` uses a local cluster.
``USER_BATCH_DASK_GATEWAY_AUTH``
    ``basic`` (the default) or ``jupyterhub``.
``USER_BATCH_DASK_GATEWAY_USER``
    The user name for ``basic`` auth.
``USER_BATCH_DASK_GATEWAY_SECRET_FILE``
    A file holding the ``basic`` password or the JupyterHub API token. The secret itself is
    never put in the environment, where child processes and job records would see it.

Without a gateway cluster, ``dask_client()`` starts one ``distributed.LocalCluster`` per process
(reused by later calls) on loopback with no dashboard: ``USER_BATCH_CPUS`` workers (default:
the CPUs this process may use) of one thread each, and, if ``USER_BATCH_MEMORY_MB`` is set, that
memory shared equally between the workers as their memory limit.

Dask is imported only when a client is asked for, so ``import user_batch`` stays light.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

ENV_ADDRESS = "USER_BATCH_DASK_GATEWAY_ADDRESS"
ENV_PROXY_ADDRESS = "USER_BATCH_DASK_GATEWAY_PROXY_ADDRESS"
ENV_CLUSTER = "USER_BATCH_DASK_CLUSTER"
ENV_AUTH = "USER_BATCH_DASK_GATEWAY_AUTH"
ENV_USER = "USER_BATCH_DASK_GATEWAY_USER"
ENV_SECRET_FILE = "USER_BATCH_DASK_GATEWAY_SECRET_FILE"

_lock = threading.Lock()
_clients: dict[tuple, Any] = {}  # one live client per target (gateway cluster or local)


def gateway_config(environ: Mapping[str, str] | None = None) -> dict | None:
    """The ``gateway.*`` Dask config the environment names, or None if it names no gateway."""
    env = os.environ if environ is None else environ
    address = env.get(ENV_ADDRESS, "").strip()
    if not address:
        return None
    auth = (env.get(ENV_AUTH) or "basic").strip().lower()
    secret = _read_secret(env.get(ENV_SECRET_FILE, "").strip())
    if auth == "basic":
        kwargs = {"username": env.get(ENV_USER) or None, "password": secret}
    elif auth == "jupyterhub":
        if secret is None:
            raise RuntimeError(
                f"{ENV_AUTH}=jupyterhub needs {ENV_SECRET_FILE}: a file holding the JupyterHub API token"
            )
        kwargs = {"api_token": secret}
    else:
        raise RuntimeError(f"{ENV_AUTH}={auth!r} is not supported; use 'basic' or 'jupyterhub'")
    return {
        "gateway.address": address,
        "gateway.proxy-address": env.get(ENV_PROXY_ADDRESS, "").strip() or None,
        "gateway.auth.type": auth,
        "gateway.auth.kwargs": kwargs,
    }


def _read_secret(path: str) -> str | None:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError as e:
        raise RuntimeError(
            f"cannot read the Dask Gateway secret from {ENV_SECRET_FILE}={path}: {e.strerror}"
        ) from e


def configure_gateway(environ: Mapping[str, str] | None = None) -> dict | None:
    """Point Dask's global config at the gateway the environment names (if any), so that
    ``dask_gateway.Gateway()`` without arguments reaches it. Returns that config."""
    config = gateway_config(environ)
    if config is not None:
        import dask
        import dask_gateway  # noqa: F401  loads its config defaults first, so ours override them

        dask.config.set(config)  # not as a context manager: stays for the whole process
    return config


def dask_client(environ: Mapping[str, str] | None = None):
    """A ``distributed.Client`` on the gateway cluster the environment names, else on this
    process's local cluster (see the module docstring for the variables)."""
    env = os.environ if environ is None else environ
    config = configure_gateway(env)
    cluster_name = env.get(ENV_CLUSTER, "").strip()
    if config is not None and cluster_name:
        key = ("gateway", config["gateway.address"], cluster_name)
        make = lambda: _gateway_client(config, cluster_name)  # noqa: E731
    else:
        cpus, memory_mb = _local_size(env)
        key = ("local", cpus, memory_mb)
        make = lambda: _local_client(cpus, memory_mb)  # noqa: E731
    with _lock:
        client = _clients.get(key)
        if client is None or not _is_open(client):
            client = _clients[key] = make()
        return client


def _is_open(client) -> bool:
    """False once the client, or the cluster it drives, was closed (e.g. by the job's code)."""
    if client.status != "running":
        return False
    cluster = getattr(client, "cluster", None)
    status = getattr(cluster, "status", None)
    return status is None or getattr(status, "name", str(status)) == "running"


def _gateway_client(config: dict, cluster_name: str):
    from dask_gateway import BasicAuth, GatewayCluster, JupyterHubAuth

    # built here, not from dask's config: dask_gateway formats config values as templates
    kind = BasicAuth if config["gateway.auth.type"] == "basic" else JupyterHubAuth
    # connect, not create: the proxy owns the cluster; closing our client leaves it up
    cluster = GatewayCluster.from_name(
        cluster_name,
        address=config["gateway.address"],
        proxy_address=config["gateway.proxy-address"],
        auth=kind(**config["gateway.auth.kwargs"]),
        shutdown_on_close=False,
    )
    return cluster.get_client(set_as_default=True)


def _local_size(env: Mapping[str, str]) -> tuple[int, int | None]:
    try:
        default = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        default = os.cpu_count() or 1
    cpus = max(1, int(env.get("USER_BATCH_CPUS") or default))
    memory = env.get("USER_BATCH_MEMORY_MB")
    return cpus, (int(memory) if memory else None)


def _local_client(cpus: int, memory_mb: int | None):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=cpus,
        threads_per_worker=1,
        processes=True,
        memory_limit=f"{memory_mb // cpus}MiB" if memory_mb else "auto",
        host="127.0.0.1",  # loopback only: nothing else on the machine needs to reach it
        dashboard_address="127.0.0.1:0",  # loopback, any free port (8787 may be someone else's)
    )
    return Client(cluster, set_as_default=True)
