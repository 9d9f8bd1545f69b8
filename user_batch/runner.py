"""Every job's entry point: ``python -m user_batch.runner JOBDIR [--item N | --sweep]``.

The proxy's backends all start this command (the local backend, the HTCondor submit
description, the Dask Gateway driver); it only picks the module that runs the job, by
``JOBDIR/run.json``'s ``kind``:

* ``cells`` and ``notebook`` (a script job arrives as ``cells``): :mod:`user_batch.notebook_run`;
  ``--item N`` runs sweep item N alone (one HTCondor proc);
* ``--sweep``: :mod:`user_batch.sweep_run`, every sweep item in turn (the local backend);
* ``catalog``: :mod:`user_batch.catalog_run`, the LSDB driver;
* ``pipeline``: :mod:`user_batch.pipeline_run`, ``pipetask run`` on the planned quantum graph.

What each writes in the job folder is documented in those modules and in
:mod:`user_batch.jobdir`; the names and exit codes are :mod:`user_batch.jobfiles`'s, the seam is
specified in ``docs/contract.md`` ("Job directory — the proxy ⇄ runner seam").

The package is a tree: ``runner`` → ``sweep_run`` → ``notebook_run`` → ``notebook_build``, and
``catalog_run``, ``pipeline_run``, all over ``jobdir`` → ``jobfiles``; no module imports one above it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from user_batch import catalog_run, notebook_run, pipeline_run, sweep_run
from user_batch.jobdir import RunnerError, read_json_object
from user_batch.jobfiles import EXIT_RUNNER_ERROR, RUN_JSON

USAGE = "usage: python -m user_batch.runner JOBDIR [--item N | --sweep]"

#: The function that runs each kind of job, given JOBDIR and its run.json. A run.json that
#: cannot be read, or whose kind is not here, goes to the notebook runner, which reports what
#: is wrong in the job's error.json and exit.json.
KINDS: dict[str, Callable[[str, dict], int]] = {
    "cells": notebook_run.run_job,
    "notebook": notebook_run.run_job,
    "catalog": catalog_run.run_job,
    "pipeline": pipeline_run.run_job,
}


def run_job(jobdir: str) -> int:
    try:
        run = read_json_object(jobdir, RUN_JSON)
    except RunnerError:
        run = {}
    kind = run.get("kind")
    runner = KINDS.get(kind) if isinstance(kind, str) else None
    return (runner or notebook_run.run_job)(jobdir, run)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if (
        len(argv) not in (1, 2, 3)
        or (len(argv) == 2 and argv[1] != "--sweep")
        or (len(argv) == 3 and (argv[1] != "--item" or not argv[2].isdigit()))
    ):
        print(USAGE, file=sys.stderr)
        return EXIT_RUNNER_ERROR
    jobdir = os.path.abspath(argv[0])
    if not os.path.isdir(jobdir):
        print(f"[batch] runner error: job directory {jobdir} does not exist", file=sys.stderr)
        return EXIT_RUNNER_ERROR
    if len(argv) == 2:
        return sweep_run.run_sweep(jobdir)
    if len(argv) == 3:
        return notebook_run.run_one(jobdir, int(argv[2]))
    return run_job(jobdir)


if __name__ == "__main__":
    sys.exit(main())
