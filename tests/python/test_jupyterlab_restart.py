"""The whole personal deployment, for real: JupyterLab starts the proxy through
jupyter-server-proxy, a job runs on the local backend, JupyterLab is killed with SIGKILL (the
proxy goes with it) and started again on the same store. The job must keep running while nothing
watches it, and the new proxy must show how it really ended, with its outputs.

Needs the built proxy (server-proxy/dist) and this package installed in the venv: bin/test runs
bin/setup first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOKEN = "restart-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port: int, path: str, body: dict | None = None, timeout: float = 60) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/user-batch/api{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as err:  # the server may still be starting
            last_error = err
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


def start_lab(port: int, root: Path, data: Path) -> subprocess.Popen:
    env = dict(os.environ, USER_BATCH_DATA_DIR=str(data), USER_BATCH_USER="scientist")
    env.pop("USER_BATCH_ROOT_DIR", None)  # learnt from the server's own root_dir
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    return subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


@pytest.fixture
def lab_dirs(tmp_path):
    root, data = tmp_path / "root", tmp_path / "data"
    root.mkdir()
    data.mkdir()
    return root, data


def test_a_running_job_survives_jupyterlab_being_killed_and_is_reconciled(lab_dirs):
    if not (REPO / "server-proxy" / "dist" / "server.js").exists():
        pytest.fail("the proxy is not built: run bin/setup")
    root, data = lab_dirs
    port = free_port()
    lab = start_lab(port, root, data)
    try:
        wait_for(lambda: api(port, "/health")["ok"], "the proxy behind JupyterLab")
        job = api(
            port,
            "/jobs",
            {
                "name": "survives restart",
                "kind": "cells",
                "backend": "local",
                "source": {
                    "notebookPath": "analysis.ipynb",
                    "cells": [
                        {
                            "id": "slow",
                            "role": "main",
                            "source": "import time\ntime.sleep(6)\n"
                            "open('done.txt', 'w').write('yes')\nprint('finished')",
                        }
                    ],
                },
                "resources": {"cpus": 1, "memoryMiB": 1024, "walltimeSeconds": 300},
            },
        )
        wait_for(lambda: api(port, f"/jobs/{job['id']}")["state"] == "running", "the job to run")
    finally:
        os.killpg(lab.pid, signal.SIGKILL)  # JupyterLab dies without a chance to clean up
        lab.wait()

    output = root / job["outputDir"] / "done.txt"
    # nothing watches the job now; it carries on by itself
    wait_for(output.exists, "the job to finish while JupyterLab is down", timeout=90)

    lab = start_lab(port, root, data)
    try:
        after = wait_for(lambda: api(port, f"/jobs/{job['id']}"), "the restarted proxy")
        after = wait_for(
            lambda: (j := api(port, f"/jobs/{job['id']}"))["state"] != "running" and j,
            "the job's final state",
        )
        assert after["state"] == "succeeded", after
        assert after["exitCode"] == 0
        jobs = api(port, "/jobs")["jobs"]
        assert [j["id"] for j in jobs] == [job["id"]]  # one job, not two
        outputs = {o["path"] for o in api(port, f"/jobs/{job['id']}/outputs")["outputs"]}
        # the executed notebook is named as a batch result (analysis.batch-<id>.ipynb)
        assert {os.path.basename(job["outputNotebook"]), "done.txt"} <= outputs
        log = api(port, f"/jobs/{job['id']}/logs?from=0")["text"]
        assert "finished" in log
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
