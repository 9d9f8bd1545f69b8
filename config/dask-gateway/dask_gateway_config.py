# Dask Gateway server config for User Batch's tests and single-machine trials; bin/dask-gateway
# starts `dask-gateway-server -f` on this file. Everything site-specific comes from environment
# variables that bin/dask-gateway sets, so nothing secret lives in the repo:
#   DASK_GATEWAY_STATE_DIR      where cluster working dirs go (.run/dask-gateway)
#   DASK_GATEWAY_PASSWORD_FILE  the shared password of the SimpleAuthenticator (mode 600)
#   DASK_GATEWAY_API_ADDRESS    the gateway's private API (the proxy forwards /api to it)
#   DASK_GATEWAY_HTTP_ADDRESS   the proxy's HTTP address that clients use
#   DASK_GATEWAY_TCP_ADDRESS    the proxy's scheduler (TLS) address that Dask clients use
#   DASK_GATEWAY_PYTHON         the interpreter that runs schedulers and workers
#   DASK_GATEWAY_MAX_WORKERS / _MAX_CORES / _MAX_MEMORY_GIB / _IDLE_TIMEOUT   per-cluster limits
#
# UnsafeLocalBackend on this machine: schedulers and workers are plain child processes of the
# gateway, run as the same user (root here: no user separation, so tests only), each in its own
# session, with the cluster's working dir (TLS cert/key, logs) as cwd. Without
# clusters_directory those dirs would be mkdtemp() dirs in /tmp, which a crash leaves behind;
# under the state dir they are easy to find and clean (bin/dask-gateway stop finds leftover
# processes by that cwd). distributed 2026 no longer installs the dask-scheduler/dask-worker
# scripts the backend calls by default, so the commands are `python -m distributed.cli...` of
# our venv, and PATH/VIRTUAL_ENV are inherited so the dask_gateway preload imports.
import os

from dask_gateway_server.options import Float, Integer, Options, String

env = os.environ.get
state_dir = env("DASK_GATEWAY_STATE_DIR", ".run/dask-gateway")
python = env("DASK_GATEWAY_PYTHON", "python3")

c.DaskGateway.address = env("DASK_GATEWAY_API_ADDRESS", "127.0.0.1:8789")
c.Proxy.address = env("DASK_GATEWAY_HTTP_ADDRESS", "127.0.0.1:8790")
c.Proxy.tcp_address = env("DASK_GATEWAY_TCP_ADDRESS", "127.0.0.1:8791")

c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
with open(env("DASK_GATEWAY_PASSWORD_FILE", os.path.join(state_dir, "password"))) as f:
    c.SimpleAuthenticator.password = f.read().strip()

c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.UnsafeLocalBackend.clusters_directory = os.path.join(state_dir, "clusters")
c.UnsafeLocalBackend.cluster_status_period = 2  # notice dead schedulers quickly
c.UnsafeLocalBackend.worker_status_period = 2
c.UnsafeLocalBackend.sigint_timeout = 3  # a stopping cluster should not hold the tests up
c.UnsafeLocalBackend.sigterm_timeout = 2

c.ClusterConfig.scheduler_cmd = [python, "-m", "distributed.cli.dask_scheduler"]
c.ClusterConfig.worker_cmd = [python, "-m", "distributed.cli.dask_worker"]
# The scheduler is light here; left at the default 1 core / 2 GiB it would eat the per-cluster
# cores and memory limits below and leave room for fewer workers than asked.
c.ClusterConfig.scheduler_cores = 1
c.ClusterConfig.scheduler_memory = "512 M"

max_workers = int(env("DASK_GATEWAY_MAX_WORKERS", "4"))
max_cores = int(env("DASK_GATEWAY_MAX_CORES", "4"))  # per worker
max_memory_gib = float(env("DASK_GATEWAY_MAX_MEMORY_GIB", "4"))  # per worker
c.ClusterConfig.cluster_max_workers = max_workers
c.ClusterConfig.cluster_max_cores = max_workers * max_cores + 1  # + the scheduler's
c.ClusterConfig.cluster_max_memory = f"{int((max_workers * max_memory_gib + 0.5) * 1024)} M"
# a forgotten cluster (client gone, nothing running) stops by itself
c.ClusterConfig.idle_timeout = float(env("DASK_GATEWAY_IDLE_TIMEOUT", "600"))


def _options_to_config(options):
    """Map what a user (or the User Batch proxy, from a job's resources) asks for per worker."""
    # max_workers: the User Batch proxy passes the user's quota share, so that even a scale()
    # from inside the job cannot go past it (the gateway clamps it); user_batch_job tags the
    # cluster with the proxy's job id, so a restarted proxy finds (and stops) clusters it made.
    return {
        "worker_cores": options.worker_cores,
        "worker_threads": options.worker_cores,
        "worker_memory": f"{int(options.worker_memory * 1024)} M",
        "cluster_max_workers": options.max_workers,
    }


c.Backend.cluster_options = Options(
    Integer("worker_cores", default=1, min=1, max=max_cores, label="Worker cores"),
    Float("worker_memory", default=1.0, min=0.25, max=max_memory_gib, label="Worker memory (GiB)"),
    Integer("max_workers", default=max_workers, min=1, max=max_workers, label="Most workers"),
    String("user_batch_job", default="", label="User Batch job id"),
    handler=_options_to_config,
)
