"""How the jupyter-server-proxy entry finds the Node proxy, and what it says when Node is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from user_batch import serverproxy


def fake_package(tmp_path: Path, monkeypatch, bundled: bool) -> Path:
    """A copy of the package's layout under tmp_path: site/user_batch/serverproxy.py (+ proxy/)."""
    package = tmp_path / "site" / "user_batch"
    package.mkdir(parents=True)
    if bundled:
        (package / "proxy" / "dist").mkdir(parents=True)
        (package / "proxy" / "dist" / "server.js").write_text("")
    monkeypatch.setattr(serverproxy, "__file__", str(package / "serverproxy.py"))
    monkeypatch.delenv("USER_BATCH_PROXY_DIR", raising=False)
    return package


def test_an_installed_wheel_runs_the_proxy_bundled_in_the_package(tmp_path, monkeypatch):
    package = fake_package(tmp_path, monkeypatch, bundled=True)
    assert serverproxy.proxy_dir() == package / "proxy"


def test_a_source_checkout_runs_its_built_proxy(tmp_path, monkeypatch):
    package = fake_package(tmp_path, monkeypatch, bundled=False)
    assert serverproxy.proxy_dir() == package.parent / "server-proxy"


def test_user_batch_proxy_dir_wins_over_the_bundled_proxy(tmp_path, monkeypatch):
    fake_package(tmp_path, monkeypatch, bundled=True)
    monkeypatch.setenv("USER_BATCH_PROXY_DIR", str(tmp_path / "elsewhere"))
    assert serverproxy.proxy_dir() == tmp_path / "elsewhere"
    assert serverproxy.setup_user_batch()["command"][1] == str(
        tmp_path / "elsewhere" / "dist" / "server.js"
    )


def test_without_node_the_proxy_says_what_to_install(monkeypatch, caplog):
    monkeypatch.setattr(serverproxy.shutil, "which", lambda name: None)
    command = serverproxy.setup_user_batch()["command"]
    assert "Install Node.js 20" in caplog.text  # in the Jupyter server's log at start
    ran = subprocess.run(command, capture_output=True, text=True)  # and when the proxy is started
    assert ran.returncode != 0
    assert "Node.js was not found" in ran.stderr and "Install Node.js 20" in ran.stderr


def test_under_jupyterlab_requests_are_logged_at_debug_unless_the_user_asks(monkeypatch):
    monkeypatch.delenv("USER_BATCH_REQUEST_LOG_LEVEL", raising=False)
    assert serverproxy._environment(1234)["USER_BATCH_REQUEST_LOG_LEVEL"] == "debug"
    monkeypatch.setenv("USER_BATCH_REQUEST_LOG_LEVEL", "info")
    assert serverproxy._environment(1234)["USER_BATCH_REQUEST_LOG_LEVEL"] == "info"
