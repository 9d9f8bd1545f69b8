"""Registers the User Batch proxy with jupyter-server-proxy (personal mode).

jupyter-server-proxy starts the Node proxy on first use, on a free loopback port, and forwards
``<base_url>/user-batch/*`` to it after Jupyter's own authentication. Requests are stamped with a
secret made for this launch, so another local process that finds the port cannot use the API.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
from pathlib import Path

_SECRET = secrets.token_urlsafe(32)


NODE_MISSING = (
    "User Batch cannot start its proxy: Node.js was not found on PATH. Install Node.js 20 "
    "(https://nodejs.org, or your system's nodejs package), then restart JupyterLab."
)
log = logging.getLogger(__name__)


def proxy_dir() -> Path:
    """The folder holding the built Node proxy (``dist/server.js``), first found of:
    ``USER_BATCH_PROXY_DIR``; the proxy bundled inside this package (``proxy/``, in a wheel);
    the source checkout's ``server-proxy`` (editable installs, in development)."""
    configured = os.environ.get("USER_BATCH_PROXY_DIR")
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent
    bundled = package / "proxy"
    if (bundled / "dist" / "server.js").is_file():
        return bundled
    return package.parent / "server-proxy"


def _jupyter_root_dir() -> str:
    """The Jupyter server's root folder: job output folders go under it so they open in the lab."""
    configured = os.environ.get("USER_BATCH_ROOT_DIR")
    if configured:
        return configured
    try:
        from jupyter_server.serverapp import ServerApp

        if ServerApp.initialized():
            return os.path.abspath(os.path.expanduser(ServerApp.instance().root_dir))
    except Exception:  # an unusual server: fall back to the working directory
        pass
    return os.getcwd()


def _escape(value: str) -> str:
    # jupyter-server-proxy passes every value through str.format for {port}
    return value.replace("{", "{{").replace("}", "}}")


def _environment(port: int) -> dict[str, str]:
    """Called by jupyter-server-proxy when it starts the proxy, after the server is configured."""
    env = {
        "USER_BATCH_HOST": "127.0.0.1",
        "USER_BATCH_PORT": str(port),
        "USER_BATCH_SECRET": _SECRET,
        "USER_BATCH_PYTHON": os.environ.get("USER_BATCH_PYTHON", sys.executable),
        "USER_BATCH_ROOT_DIR": _jupyter_root_dir(),
        "USER_BATCH_EXIT_WITH_PARENT": "1",
        # a line per request (the sidebar polls) would flood the terminal JupyterLab runs in;
        # warnings and errors still show
        "USER_BATCH_REQUEST_LOG_LEVEL": os.environ.get("USER_BATCH_REQUEST_LOG_LEVEL", "debug"),
    }
    return {key: _escape(value) for key, value in env.items()}


def _command() -> list[str]:
    node = shutil.which("node")
    if node is None:
        # said now in the server's log, and again by the "proxy" that cannot start, when it is used
        log.error(NODE_MISSING)
        return [sys.executable, "-c", f"import sys; sys.exit({NODE_MISSING!r})"]
    return [node, str(proxy_dir() / "dist" / "server.js")]


def setup_user_batch() -> dict:
    return {
        "command": [_escape(part) for part in _command()],
        "environment": _environment,
        "timeout": 30,
        "absolute_url": False,
        "new_browser_tab": False,
        "launcher_entry": {"enabled": False},
        "request_headers_override": {"X-User-Batch-Secret": _SECRET},
    }
