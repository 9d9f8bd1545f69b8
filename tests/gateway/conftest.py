"""A real Dask Gateway (bin/dask-gateway) and a real HATS catalog (tests/fixtures/make_catalog.py)
for the gateway tests.

The gateway is started if it is not running and stopped at the end only if this session started
it (bin/test starts it once for the whole run). Every test must leave no cluster behind: the
autouse ``no_leftover_clusters`` fixture checks that through the REST list.

Measured on this 2-core machine (load ~7 from other work): gateway start 1-2 s; a cluster
PENDING -> RUNNING 1.9-3.5 s; scaling to 2 workers until both are connected 3-6 s; DELETE ->
STOPPED 2-3 s (6 s once a worker imported lsdb). The whole suite takes about 1 min.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # import user_batch from the checkout even when not installed
    sys.path.insert(0, str(REPO))
GATEWAY = REPO / "bin" / "dask-gateway"
MAKE_CATALOG = REPO / "tests" / "fixtures" / "make_catalog.py"
ACTIVE = "PENDING,RUNNING,STOPPING"


def pytest_configure(config):
    # lsdb 0.11 and nested-pandas use pandas options that pandas 3.1 deprecates: not ours to fix
    config.addinivalue_line("filterwarnings", "ignore::pandas.errors.Pandas4Warning")


class Gateway:
    """The test gateway's addresses and credentials (from `bin/dask-gateway env`) and a tiny
    REST client for it."""

    def __init__(self, env: dict[str, str]):
        self.address = env["USER_BATCH_TEST_GATEWAY_ADDRESS"]
        self.proxy_address = env["USER_BATCH_TEST_GATEWAY_PROXY_ADDRESS"]
        # SimpleAuthenticator takes any user name with the shared password, and a user sees only
        # their own clusters: a name of our own keeps other sessions' clusters out of our lists
        self.user = f"{env['USER_BATCH_TEST_GATEWAY_USER']}-pytest-{os.getpid()}"
        self.password_file = env["USER_BATCH_TEST_GATEWAY_PASSWORD_FILE"]
        password = Path(self.password_file).read_text().strip()
        self._auth = "Basic " + base64.b64encode(f"{self.user}:{password}".encode()).decode()

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        """(status, JSON body or None) of METHOD /api/v1/PATH; HTTP errors are returned, not raised."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.address}/api/v1/{path}",
            data=data,
            method=method,
            headers={"Authorization": self._auth, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, (json.loads(raw) if raw else None)

    def clusters(self, statuses: str = ACTIVE) -> dict[str, dict]:
        status, body = self.api("GET", f"clusters/?status={statuses}")
        assert status == 200, body
        return body

    def create(self, **options) -> str:
        status, body = self.api("POST", "clusters/", {"cluster_options": options})
        assert status == 201, body
        return body["name"]

    def wait_status(self, name: str, want: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.api("GET", f"clusters/{name}")
            assert status == 200, body
            if body["status"] == want:
                return body
            assert body["status"] != "FAILED", (
                f"cluster {name} failed; see .run/dask-gateway/gateway.log"
            )
            assert time.monotonic() < deadline, (
                f"cluster {name} still {body['status']} after {timeout} s"
            )
            time.sleep(0.1)

    def stop(self, name: str) -> None:
        status, body = self.api("DELETE", f"clusters/{name}")
        assert status == 204, body
        self.wait_status(name, "STOPPED", timeout=30)

    def client_env(self, cluster: str | None = None) -> dict[str, str]:
        """The variables user_batch.dask reads, for this gateway (and cluster)."""
        env = {
            "USER_BATCH_DASK_GATEWAY_ADDRESS": self.address,
            "USER_BATCH_DASK_GATEWAY_PROXY_ADDRESS": self.proxy_address,
            "USER_BATCH_DASK_GATEWAY_AUTH": "basic",
            "USER_BATCH_DASK_GATEWAY_USER": self.user,
            "USER_BATCH_DASK_GATEWAY_SECRET_FILE": self.password_file,
        }
        if cluster:
            env["USER_BATCH_DASK_CLUSTER"] = cluster
        return env


def _healthy() -> bool:
    out = subprocess.run([str(GATEWAY), "status"], capture_output=True, text=True)
    return "health: ok" in out.stdout


@pytest.fixture(scope="session")
def gateway(request) -> Gateway:
    if not _healthy():
        subprocess.run([str(GATEWAY), "start"], check=True)
        # stop only what we started: bin/test (or a developer) may run it for others too
        request.addfinalizer(lambda: subprocess.run([str(GATEWAY), "stop"], check=True))
    out = subprocess.run([str(GATEWAY), "env"], capture_output=True, text=True, check=True).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return Gateway({k: shlex.split(v)[0] if v else "" for k, v in env.items()})


@pytest.fixture
def clusters(gateway):
    """Clusters a test makes: ``clusters.create(**options)``; all stopped after the test."""
    made: list[str] = []

    class Made:
        names = made

        @staticmethod
        def create(**options) -> str:
            name = gateway.create(**options)
            made.append(name)
            return name

    yield Made
    active = gateway.clusters()
    for name in made:
        if name in active:
            gateway.stop(name)


@pytest.fixture(autouse=True)
def no_leftover_clusters(request):
    """After each test that uses the gateway, no cluster it made is still active."""
    if "gateway" not in request.fixturenames:
        yield
        return
    gw = request.getfixturevalue("gateway")
    before = set(gw.clusters())
    yield
    left = set(gw.clusters()) - before
    for name in left:  # clean up, then fail: a leftover would hold cores for the next test
        gw.stop(name)
    assert not left, f"clusters left running by the test: {sorted(left)}"


@pytest.fixture(scope="session")
def catalog(tmp_path_factory) -> Path:
    """A small real HATS catalog, written by the fixture script as a user would run it."""
    out = tmp_path_factory.mktemp("catalog") / "synthetic"
    subprocess.run([sys.executable, str(MAKE_CATALOG), str(out)], check=True, capture_output=True)
    return out
