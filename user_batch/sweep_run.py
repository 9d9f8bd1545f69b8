"""The sweep runner: ``python -m user_batch.runner JOBDIR --sweep`` (the local backend).

A sweep job has ``sweep.json`` in JOBDIR: a list of parameter sets, each applied over run.json's
``parameters``. HTCondor runs each item as its own proc (``--item N``, straight to
:func:`user_batch.notebook_run.run_one`); the local backend runs them all here, in turn, in one
process group, and stops at a cancel.

Each item writes its own files in ``JOBDIR/items/N`` and its outputs in ``outputDir/item-N``.
JOBDIR's own files are the sweep's:

* ``launch.json``   ``{pid, pgid, startedAt}``;
* ``progress.json`` ``{total, done, failed, items}`` — ``items`` has one letter per item:
  ``q`` queued, ``r`` running, ``d`` done, ``f`` failed, ``c`` cancelled;
* ``error.json``    the first failed item's, its ``evalue`` prefixed ``(sweep item N)``;
* ``exit.json``     reason ``ok``, ``cancelled`` (143), or ``items_failed`` (exit code 1) with a
  ``message`` naming the failed items.
"""

from __future__ import annotations

import json
import os

from user_batch.jobdir import Log, item_dir, write_exit, write_json_atomic, write_launch
from user_batch.jobfiles import (
    ERROR_JSON,
    EXIT_CANCELLED,
    EXIT_CELL_ERROR,
    EXIT_OK,
    PROGRESS_JSON,
    SWEEP_JSON,
)
from user_batch.notebook_run import run_one


def sweep_summary(jobdir: str, letters: list[str]) -> tuple[dict, dict | None, str]:
    """progress.json for a whole sweep, the first failed item's error (named), and a sentence."""
    failed = [i for i, c in enumerate(letters) if c == "f"]
    progress = {
        "total": len(letters),
        "done": letters.count("d"),
        "failed": len(failed),
        "items": "".join(letters),
    }
    if not failed:
        return progress, None, ""
    first = failed[0]
    error = None
    try:
        with open(os.path.join(item_dir(jobdir, first), ERROR_JSON), encoding="utf-8") as f:
            error = json.load(f)
    except (OSError, json.JSONDecodeError):
        pass
    shown = ", ".join(str(i) for i in failed[:10]) + (", …" if len(failed) > 10 else "")
    message = f"{len(failed)} of {len(letters)} sweep items failed (item {shown})"
    if error:
        message += f"; item {first}: {error.get('ename')}: {error.get('evalue')}"
        error = {**error, "evalue": f"(sweep item {first}) {error.get('evalue')}"}
    return progress, error, message + "."


def run_sweep(jobdir: str) -> int:
    """The local backend's sweep: every item in turn, in this process group; stops on cancel."""
    import signal

    with open(os.path.join(jobdir, SWEEP_JSON), encoding="utf-8") as f:
        count = len(json.load(f))
    write_launch(jobdir)
    stop = {"signal": None}

    def on_signal(signum, _frame):  # between items; during one, its own handler takes over
        stop["signal"] = signum

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    letters = ["q"] * count
    log = Log()
    code, reason = EXIT_OK, "ok"
    for item in range(count):
        if stop["signal"] is not None:
            code, reason = EXIT_CANCELLED, "cancelled"
            break
        letters[item] = "r"
        write_json_atomic(os.path.join(jobdir, PROGRESS_JSON), sweep_summary(jobdir, letters)[0])
        log.batch(f"sweep item {item + 1} of {count}")
        item_code = run_one(jobdir, item)
        for sig in (signal.SIGTERM, signal.SIGINT):  # asyncio.run put the default handlers back
            signal.signal(sig, on_signal)
        if item_code == EXIT_CANCELLED:
            letters[item] = "c"
            code, reason = EXIT_CANCELLED, "cancelled"
            break
        letters[item] = "d" if item_code == EXIT_OK else "f"
    letters = [c if c != "q" or code != EXIT_CANCELLED else "c" for c in letters]
    progress, error, message = sweep_summary(jobdir, letters)
    write_json_atomic(os.path.join(jobdir, PROGRESS_JSON), progress)
    exit_message = None
    if code == EXIT_OK and progress["failed"]:
        code, reason, exit_message = EXIT_CELL_ERROR, "items_failed", message
        if error:
            write_json_atomic(os.path.join(jobdir, ERROR_JSON), error)
    log.batch(f"sweep: {progress['done']} done, {progress['failed']} failed of {count}")
    write_exit(jobdir, code, reason, exit_message)
    return code
