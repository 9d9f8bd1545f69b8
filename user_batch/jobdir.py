"""The job folder as every runner reads and writes it: the bottom of the runner package.

The notebook runner (:mod:`user_batch.notebook_run`), the sweep runner
(:mod:`user_batch.sweep_run`) and the catalog driver (:mod:`user_batch.catalog_run`) share
these helpers; the file names and exit codes are :mod:`user_batch.jobfiles`'s.

Every file is written to a temporary name in the same folder, then renamed, so that the proxy
never reads half a file. Each runner writes, in its own folder:

* ``launch.json``   ``{pid, pgid, startedAt}`` — first thing (the proxy signals the group);
* ``env.json``      interpreter, installed packages, host, platform — written while the job
  starts, waited for before the end;
* ``exit.json``     ``{exitCode, reason, endedAt, message?}`` — last.

stdout goes to the job log (the proxy appends it to ``JOBDIR/output.log``); runner messages are
lines prefixed ``[batch]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import datetime, timezone

from user_batch.jobfiles import ENV_JSON, EXIT_JSON, ITEMS_DIR, LAUNCH_JSON, RUN_JSON


class RunnerError(Exception):
    """A problem with the job itself (not the user's code): reported as reason ``runner_error``."""


def sha256_file(path: str) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_json_atomic(path: str, data) -> None:
    """Write JSON to ``path`` via a temp file in the same directory and ``os.replace``."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json_object(folder: str, name: str) -> dict:
    """The JSON object in ``folder/name`` (an input the proxy wrote), or a RunnerError saying
    what is wrong with it."""
    path = os.path.join(folder, name)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise RunnerError(f"{path} does not exist") from None
    except json.JSONDecodeError as e:
        raise RunnerError(f"{name} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise RunnerError(f"{name} must hold a JSON object")
    return data


def job_kind(jobdir: str) -> str | None:
    """run.json's ``kind``, or None when run.json cannot be read (the runner that gets the job
    then reports that in its own words)."""
    try:
        return read_json_object(jobdir, RUN_JSON).get("kind")
    except RunnerError:
        return None


def item_dir(jobdir: str, item: int) -> str:
    """Where one sweep item's files go: JOBDIR/items/<item>."""
    return os.path.join(jobdir, ITEMS_DIR, str(item))


def write_launch(folder: str) -> None:
    write_json_atomic(
        os.path.join(folder, LAUNCH_JSON),
        {"pid": os.getpid(), "pgid": os.getpgrp(), "startedAt": now_iso()},
    )


def write_exit(folder: str, code: int, reason: str, message: str | None = None) -> None:
    record: dict = {"exitCode": code, "reason": reason, "endedAt": now_iso()}
    if message is not None:
        record["message"] = message
    write_json_atomic(os.path.join(folder, EXIT_JSON), record)


class Log:
    """Line-aware writer to stdout that flushes after every write (the proxy tails the file)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.at_line_start = True

    def write(self, text: str) -> None:
        if not text:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stdout closed: never let logging kill the job
            return
        self.at_line_start = text.endswith("\n")

    def line(self, text: str) -> None:
        """Write ``text`` as a whole line, starting a new line first if needed."""
        if not self.at_line_start:
            self.write("\n")
        self.write(text.rstrip("\n") + "\n")

    def batch(self, text: str) -> None:
        self.line(f"[batch] {text}")


def environment_record() -> dict:
    """``env.json``: the interpreter, every installed distribution, the host and platform."""
    import platform
    import socket
    from importlib import metadata

    packages = {}
    seen = set()
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:
            name = None
        if name and name.lower() not in seen:
            seen.add(name.lower())
            packages[name] = dist.version
    return {
        "python": {"executable": sys.executable, "version": platform.python_version()},
        "packages": [{"name": n, "version": packages[n]} for n in sorted(packages, key=str.lower)],
        "host": socket.gethostname(),
        "platform": platform.platform(),
    }


def write_environment(folder: str) -> None:
    """Write ``env.json``; run in a thread, since listing every package takes a few hundred ms."""
    try:
        write_json_atomic(os.path.join(folder, ENV_JSON), environment_record())
    except Exception as e:  # provenance loses the package list, the job itself goes on
        print(f"[batch] could not record the environment: {e}", file=sys.stderr, flush=True)
