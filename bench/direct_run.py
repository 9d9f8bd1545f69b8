"""Baseline (a): execute a notebook with nbclient in a fresh Python process and a fresh kernel.

Usage: python direct_run.py INPUT.ipynb OUTPUT.ipynb   (the kernel's cwd is this process's cwd)

This is the raw path that User Batch's local backend wraps: interpreter start, import nbclient,
start a kernel, run the cells, write the executed notebook. No store, no quota, no HTTP.
"""
import os
import sys

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
    client.execute()
    nbformat.write(nb, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
