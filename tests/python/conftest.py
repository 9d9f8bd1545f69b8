"""Helpers to run the real job runner (``python -m user_batch.runner``) on temporary job dirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # import user_batch from the checkout even when not installed
    sys.path.insert(0, str(REPO))
# the independent expectations the catalog tests compare with (tests/fixtures/*.py)
if str(REPO / "tests" / "fixtures") not in sys.path:
    sys.path.insert(0, str(REPO / "tests" / "fixtures"))


class Job:
    def __init__(self, root: Path, run: dict):
        self.dir = root / "job"
        self.dir.mkdir(parents=True)
        self.out = root / "batch-jobs" / "job1"
        self.nbdir = root / "work"
        self.nbdir.mkdir(exist_ok=True)
        self.run = {
            "jobId": "job1",
            "kind": "cells",
            "kernelName": "python3",
            "notebookPath": "work/analysis.ipynb",
            "notebookDir": str(self.nbdir),
            "parameters": {},
            "outputDir": str(self.out),
            "outputNotebook": "analysis.ipynb",
            "walltimeSeconds": 120,
            "cpus": 1,
            "memoryMiB": 2048,
        }
        self.run.update(run)
        (self.dir / "run.json").write_text(json.dumps(self.run))
        self.proc: subprocess.Popen | None = None

    def start(self) -> subprocess.Popen:
        """Start the runner the way the proxy does: own session, cwd = outputDir, log appended."""
        self.out.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO), env.get("PYTHONPATH")] if p)
        env.update(
            BATCH_JOB_ID=self.run["jobId"],
            BATCH_OUTPUT_DIR=str(self.out),
            BATCH_NOTEBOOK_DIR=str(self.nbdir),
        )
        log = open(self.dir / "output.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "user_batch.runner", str(self.dir)],
            cwd=self.out,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return self.proc

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def execute(self, timeout: float = 60) -> int:
        self.start()
        return self.wait(timeout)

    def json(self, name: str):
        return json.loads((self.dir / name).read_text())

    def log(self) -> str:
        return (self.dir / "output.log").read_text(errors="replace")

    def notebook(self):
        import nbformat

        nb = nbformat.read(self.out / self.run["outputNotebook"], as_version=4)
        nbformat.validate(nb)
        return nb


@pytest.fixture
def make_job(tmp_path):
    jobs: list[Job] = []

    def make(**run) -> Job:
        job = Job(tmp_path / f"j{len(jobs)}", run)
        jobs.append(job)
        return job

    yield make
    for job in jobs:  # never leave a runner behind, even when a test failed
        if job.proc is not None and job.proc.poll() is None:
            os.killpg(job.proc.pid, 9)
            job.proc.wait()


def process_gone(pid: int, within: float = 5.0) -> bool:
    """True when ``pid`` no longer exists (or is only a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "".join(parts)
