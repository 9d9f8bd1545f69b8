"""The extension installs like any JupyterLab extension: build the wheel, pip install it into a
fresh venv outside the checkout, start JupyterLab from that venv, and run a job through the lab.

Nothing of the checkout may be on that venv's path (no editable install, no PYTHONPATH, the cwd
and every folder elsewhere), so the job can only run if the wheel carries the proxy and the runner.
The wheel is built from what bin/setup built (lab extension, proxy npm packages), with the repo
venv's hatchling (no build isolation); the venv's packages come from the warm pip cache.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOKEN = "wheel-test-token"
CATALOG_ROWS = 3000
FINAL_STATES = ("succeeded", "failed", "cancelled", "held", "lost")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as err:  # the lab or its proxy may still be starting
            last_error = err
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


def outside_checkout_env(venv: Path, home: Path) -> dict[str, str]:
    """This environment with the venv first on PATH and every trace of the checkout removed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("USER_BATCH_", "JUPYTER", "PYTHON", "VIRTUAL_ENV"))
    }
    path = [
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and not Path(p).resolve().is_relative_to(REPO)
    ]
    env["PATH"] = os.pathsep.join(
        [str(venv / "bin"), *path]
    )  # node stays: it is needed at run time
    env["PYTHONNOUSERSITE"] = "1"
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    return env


@pytest.fixture(scope="module")
def scratch():
    """A folder outside the checkout for the wheel and the venv, removed afterwards (not left to
    pytest's basetemp, which keeps its last three runs: three venvs of a few hundred MB). In
    memory when it can be: a venv is some 20,000 files, and on a busy disk writing and removing
    them took most of this suite's time."""
    memory = "/dev/shm" if os.access("/dev/shm", os.W_OK | os.X_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="user-batch-wheel-", dir=memory)).resolve()
    assert not folder.is_relative_to(REPO), "TMPDIR must lie outside the checkout"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel(scratch) -> Path:
    if not (REPO / "user_batch" / "labextension" / "package.json").is_file():
        pytest.fail("the lab extension is not built: run bin/setup")
    out = scratch / "wheelhouse"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        cwd=scratch,
    )
    [built] = out.glob("user_batch-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, scratch) -> tuple[Path, dict[str, str]]:
    venv = scratch / "venv"
    env = outside_checkout_env(venv, scratch / "jupyter")
    # without a pip of its own (installing one takes seconds): this pip installs into it through
    # --python; --no-compile since byte-compiling JupyterLab's dependencies is a large part of it
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, cwd=scratch, env=env
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-compile",
            str(wheel),
        ],
        check=True,
        cwd=scratch,
        env=env,
    )
    return venv, env


def test_the_wheel_carries_the_proxy_and_says_which_platform_it_is_for(wheel):
    assert not wheel.name.endswith("-none-any.whl"), wheel.name  # a native module is inside
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in [
        "user_batch/proxy/dist/server.js",
        "user_batch/proxy/node_modules/better-sqlite3/build/Release/better_sqlite3.node",
        "share/jupyter/labextensions/user-batch/package.json",
    ]:
        assert any(n.endswith(needed) for n in names), needed


def test_pip_install_then_jupyter_lab_runs_a_job(venv, tmp_path):
    venv, env = venv
    python = venv / "bin" / "python"
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import user_batch.serverproxy as s; "
            "print(s.__file__); print(s.setup_user_batch()['command'][1])",
        ],
        check=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), (
        where
    )  # the installed package and its proxy

    root, data = tmp_path / "root", tmp_path / "data"
    root.mkdir()
    # a real HATS catalog, so the plan below reads Parquet footers with the bundled hyparquet;
    # made (by the checkout's venv, which has lsdb) while the lab starts and the job runs
    catalog = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "fixtures" / "make_catalog.py"),
            str(root / "catalogs" / "synthetic"),
            "--rows",
            str(CATALOG_ROWS),
        ],
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    args = [
        str(venv / "bin" / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    lab_log = tmp_path / "lab.log"
    with open(lab_log, "wb") as log:
        lab = subprocess.Popen(
            args,
            cwd=tmp_path,
            env=dict(env, USER_BATCH_DATA_DIR=str(data)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"

    def api(path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{base}/user-batch/api{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
            method="GET" if body is None else "POST",
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    try:
        page = wait_for(
            lambda: urllib.request.urlopen(f"{base}/lab?token={TOKEN}", timeout=10).read().decode(),
            "JupyterLab",
        )
        assert re.search(r'"name":\s*"user-batch"', page), "the lab does not load the extension"
        job = api(
            "/jobs",
            {
                "name": "from the wheel",
                "kind": "cells",
                "backend": "local",
                "source": {
                    "notebookPath": "analysis.ipynb",
                    "cells": [
                        {
                            "id": "write",
                            "role": "main",
                            "source": "import sys\n"
                            "open('made.txt', 'w').write('written by a job')\n"
                            "print('ran in', sys.prefix)",
                        }
                    ],
                },
                "resources": {"cpus": 1, "memoryMiB": 1024, "walltimeSeconds": 120},
            },
        )
        assert catalog.wait(timeout=120) == 0
        plan = api("/catalogs/plan", {"path": "catalogs/synthetic"})
        assert plan["totals"]["rows"] == CATALOG_ROWS, plan["totals"]
        done = wait_for(
            lambda: (j := api(f"/jobs/{job['id']}"))["state"] in FINAL_STATES and j,
            "the job to end",
        )
        assert done["state"] == "succeeded", (done, api(f"/jobs/{job['id']}/logs?from=0")["text"])
        assert (root / done["outputDir"] / "made.txt").read_text() == "written by a job"
        assert f"ran in {venv}" in api(f"/jobs/{job['id']}/logs?from=0")["text"]
    except BaseException:
        print(lab_log.read_text(errors="replace")[-4000:])  # shown by pytest when the test fails
        raise
    finally:
        catalog.kill()  # when it has ended already, this does nothing
        catalog.wait()
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
