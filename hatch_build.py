"""Wheel build hook: puts the Node proxy into the wheel, so a pip-installed lab can start it.

``server-proxy/scripts/bundle.mjs`` (esbuild) makes ``server-proxy/bundle/``, which goes into the
wheel as ``user_batch/proxy/``. It is run on every wheel build (it takes about a second) so a wheel
never carries a proxy older than its sources. Editable installs are left alone: they run the
checkout's ``server-proxy/dist`` (``serverproxy.proxy_dir``).

The bundle holds better-sqlite3's native module, built for this machine's platform and Node ABI,
so the wheel is tagged for this platform (any Python 3) instead of ``py3-none-any``.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ProxyBundleHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        proxy = Path(self.root) / "server-proxy"
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(
                "building the wheel needs Node.js 20 (node on PATH) to bundle the proxy"
            )
        bundle = proxy / "bundle"
        if subprocess.run([node, str(proxy / "scripts" / "bundle.mjs"), str(bundle)]).returncode:
            raise RuntimeError(
                "bundling the proxy failed (see above); it needs the proxy's npm "
                "packages and the built better-sqlite3: run bin/setup first"
            )
        build_data["force_include"][str(bundle)] = "user_batch/proxy"
        build_data["pure_python"] = False
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
