"""Helpers for code running inside a User Batch job.

>>> from user_batch import job
>>> df.to_csv(job.output_dir() / "catalog.csv")

Outside a batch job (plain interactive use) every helper falls back to something sensible, so
the same notebook runs both ways.
"""

from __future__ import annotations

import os
from pathlib import Path


def in_batch() -> bool:
    """True when running as a User Batch job."""
    return "BATCH_JOB_ID" in os.environ


def job_id() -> str | None:
    """The job's id, or None outside a batch job."""
    return os.environ.get("BATCH_JOB_ID")


def output_dir() -> Path:
    """The job's output folder (``BATCH_OUTPUT_DIR``), else the current directory."""
    return Path(os.environ.get("BATCH_OUTPUT_DIR") or os.getcwd())


def notebook_dir() -> Path:
    """The folder of the notebook the job came from (``BATCH_NOTEBOOK_DIR``), else the cwd."""
    return Path(os.environ.get("BATCH_NOTEBOOK_DIR") or os.getcwd())
