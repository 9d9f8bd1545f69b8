"""Talk to User Batch from a kernel, as the sidebar does: through the Jupyter server that started
this kernel, with that server's own token, so a job submitted from code has the identity, quota
and job list of the lab it was submitted from.

The server is found from its runtime file (``jpserver-<pid>.json``, what ``jupyter server list``
reads): the one whose pid is the kernel's parent (``JPY_PARENT_PID``, set by jupyter_client when
it launches a kernel), or the only one running.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class BatchError(Exception):
    """The User Batch service refused a request (its sentence), or could not be reached."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    root_dir: str


def find_server() -> Server:
    """The Jupyter server this kernel belongs to, or a BatchError saying why there is none."""
    from jupyter_server.serverapp import list_running_servers

    servers = list(list_running_servers())
    parent = os.environ.get("JPY_PARENT_PID")
    mine = [s for s in servers if parent and str(s.get("pid")) == parent]
    if not mine and len(servers) == 1:
        mine = servers
    if not mine:
        raise BatchError(
            "Cannot find the Jupyter server of this kernel (none running, or several and none is "
            "this kernel's parent): run this from a notebook or console in JupyterLab."
        )
    info = mine[0]
    return Server(
        url=info["url"], token=info.get("token", ""), root_dir=info.get("root_dir", os.getcwd())
    )


class Client:
    """The User Batch API behind a Jupyter server (``<server>/user-batch/api``)."""

    def __init__(self, server: Server | None = None, timeout: float = 600):
        self.server = server or find_server()
        self.timeout = timeout

    def request(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None
    ) -> dict:
        url = urllib.parse.urljoin(self.server.url, "user-batch/api/" + path.lstrip("/"))
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.server.token:
            all_headers["Authorization"] = f"token {self.server.token}"
        data = json.dumps(body if body is not None else {}).encode() if method != "GET" else None
        request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                answer = json.loads(err.read())
            except ValueError:
                answer = {}
            raise BatchError(
                answer.get("error") or f"User Batch answered {err.code} for {method} {path}.",
                status=err.code,
                code=answer.get("code"),
            ) from None
        except urllib.error.URLError as err:
            raise BatchError(f"User Batch cannot be reached at {url}: {err.reason}.") from None
