"""Baseline (a): execute a notebook with nbclient in a fresh Python process and a fresh kernel.

Usage: python direct_run.py INPUT.ipynb OUTPUT.ipynb   (the kernel's cwd is this process's cwd)
Env BENCH_DIRECT_TRANSPORT=ipc: talk to the kernel over Unix sockets in a private temp dir, as
User Batch's runner does (default: nbclient's default, TCP on 127.0.0.1).

This is the raw path that User Batch's local backend wraps: interpreter start, import nbclient,
start a kernel, run the cells, write the executed notebook. No store, no quota, no HTTP.
"""

import os
import shutil
import sys
import tempfile

import nbformat
from nbclient import NotebookClient


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        timeout=600,
        resources={"metadata": {"path": os.getcwd()}},
    )
    ipc_dir = None
    if os.environ.get("BENCH_DIRECT_TRANSPORT") == "ipc":
        ipc_dir = tempfile.mkdtemp(prefix="bench-direct-")
        client.km = client.create_kernel_manager()
        client.km.transport = "ipc"
        client.km.ip = os.path.join(ipc_dir, "kernel")
    try:
        client.execute()
    finally:
        if ipc_dir:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    nbformat.write(nb, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
