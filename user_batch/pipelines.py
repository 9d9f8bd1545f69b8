"""Promote an LSST pipeline to a batch run from a notebook, in one call::

    from user_batch.pipelines import run_pipeline
    job = run_pipeline("pipelines/add.yaml", butler_repo="butler-repo",
                       input_collections=["demo/raw"], data_query="detector IN (0, 1)",
                       overrides={"addA.addend": 100})
    job.plan["totalQuanta"], job.wait().state

The pipeline is a YAML file, YAML text, or a ``lsst.pipe.base.Pipeline`` built in code (written to
``batch-pipelines/`` in your Jupyter folder, so the run records exactly what ran). The service
builds the quantum graph first — a bad query or override raises :class:`BatchError` with its
sentence, nothing submitted — and the graph it built is the one that runs, as from the dialog.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from user_batch.client import BatchError, Client

__all__ = ["BatchError", "PipelineJob", "run_pipeline"]

FINAL_STATES = ("succeeded", "failed", "cancelled", "lost")


@dataclass
class PipelineJob:
    """A submitted pipeline run: its job record, the plan it runs, and calls to follow it."""

    client: Client = field(repr=False)
    job: dict
    plan: dict

    @property
    def id(self) -> str:
        return self.job["id"]

    @property
    def state(self) -> str:
        return self.job["state"]

    def refresh(self) -> PipelineJob:
        self.job = self.client.request("GET", f"jobs/{self.id}")
        return self

    def status(self) -> dict:
        """Quanta per task label, failed quanta and, once ended, the output datasets."""
        return self.client.request("GET", f"jobs/{self.id}/pipeline")

    def wait(self, timeout: float = 3600, interval: float = 1.0) -> PipelineJob:
        """Wait until the run ends (or raise TimeoutError); returns self."""
        deadline = time.monotonic() + timeout
        while self.refresh().state not in FINAL_STATES:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {self.id} is still {self.state} after {timeout:.0f} s")
            time.sleep(interval)
        return self


def _relative_to_root(path: str | os.PathLike, root: str, what: str) -> str:
    """A path as the service takes it: relative to the Jupyter root (relative paths are read from
    the notebook's folder, the kernel's working directory, as open() would)."""
    full = Path(path).expanduser()
    full = (full if full.is_absolute() else Path.cwd() / full).resolve()
    try:
        return full.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        raise BatchError(
            f"The {what} {full} is outside your Jupyter folder {root}: put it inside."
        ) from None


def _repo_argument(path: str | os.PathLike, root: str) -> str:
    """A butler repo inside the Jupyter folder as a relative path; elsewhere absolute, for the
    site's repository folders to allow or refuse."""
    full = Path(path).expanduser()
    full = (full if full.is_absolute() else Path.cwd() / full).resolve()
    try:
        return full.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(full)


def _write_pipeline(pipeline, name: str, root: str) -> str:
    """Write a pipeline given as YAML text or a Pipeline object into batch-pipelines/; its path."""
    folder = Path(root) / "batch-pipelines"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80] or "pipeline"
    target = folder / f"{safe}-{stamp}-{uuid.uuid4().hex[:6]}.yaml"
    if isinstance(pipeline, str):
        target.write_text(pipeline, encoding="utf-8")
    elif hasattr(pipeline, "write_to_uri"):
        pipeline.write_to_uri(str(target))
    else:
        raise BatchError(
            "pipeline must be a YAML file path, YAML text, or an lsst.pipe.base.Pipeline; "
            f"got {type(pipeline).__name__}."
        )
    return target.relative_to(root).as_posix()


def _overrides(overrides) -> list[dict]:
    """{"label.field": value} or ["label:field=value", ...] as the spec's override rows."""
    rows = []
    if isinstance(overrides, dict):
        for key, value in overrides.items():
            label, dot, fieldname = str(key).partition(".")
            if not dot or not label or not fieldname:
                raise BatchError(
                    f'Override "{key}" must be named "label.field", e.g. "addA.addend".'
                )
            rows.append(
                {
                    "label": label,
                    "field": fieldname,
                    "value": value if isinstance(value, str) else repr(value),
                }
            )
    else:
        for text in overrides:
            label, colon, rest = str(text).partition(":")
            fieldname, eq, value = rest.partition("=")
            if not colon or not eq or not label.strip() or not fieldname.strip():
                raise BatchError(
                    f'Override "{text}" must read label:field=value, e.g. "addA:addend=100".'
                )
            rows.append(
                {"label": label.strip(), "field": fieldname.strip(), "value": value.strip()}
            )
    return rows


def run_pipeline(
    pipeline,
    *,
    butler_repo: str | os.PathLike,
    input_collections: list[str] | str,
    data_query: str | None = None,
    labels: list[str] | None = None,
    overrides: dict | list[str] | None = None,
    config_files: dict[str, str | os.PathLike] | None = None,
    output_collection: str | None = None,
    name: str | None = None,
    backend: str = "local",
    account: str | None = None,
    cpus: int = 1,
    memory_mib: int = 2048,
    walltime_minutes: float = 60,
    client: Client | None = None,
) -> PipelineJob:
    """Build the pipeline's quantum graph on the service, then submit exactly that graph.

    ``config_files`` maps a task label to a Python override file (``config.field = value``).
    Raises :class:`BatchError` with the service's sentence when the graph cannot be built or the
    run would not fit your quota; nothing is submitted then.
    """
    client = client or Client()
    root = client.server.root_dir
    if isinstance(pipeline, (str, os.PathLike)) and not (
        isinstance(pipeline, str) and "\n" in pipeline
    ):
        file = _relative_to_root(pipeline, root, "pipeline file")
        default_name = Path(file).stem
    else:
        default_name = "pipeline"
        file = _write_pipeline(pipeline, name or default_name, root)
    job_name = name or default_name
    definition: dict = {
        "file": file,
        "butlerRepo": _repo_argument(butler_repo, root),
        "inputCollections": [input_collections]
        if isinstance(input_collections, str)
        else list(input_collections),
    }
    if data_query:
        definition["dataQuery"] = data_query
    if labels:
        definition["labels"] = list(labels)
    if overrides:
        definition["configOverrides"] = _overrides(overrides)
    if config_files:
        definition["configFiles"] = [
            {"label": label, "path": _relative_to_root(path, root, "config file")}
            for label, path in config_files.items()
        ]
    if output_collection:
        definition["outputCollection"] = output_collection
    resources = {
        "cpus": cpus,
        "memoryMiB": memory_mib,
        "walltimeSeconds": int(walltime_minutes * 60),
    }
    request = {"name": job_name, "pipeline": definition, "resources": resources, "backend": backend}
    if account:
        request["account"] = account
    planned = client.request("POST", "pipelines/plan", request)
    if not planned["quota"]["fits"]:
        raise BatchError(planned["quota"]["message"], code="quota_exceeded")
    spec = {
        "name": job_name,
        "kind": "pipeline",
        "source": {"notebookPath": file, "pipeline": {**definition, "planId": planned["planId"]}},
        "resources": resources,
        "backend": backend,
        **({"account": account} if account else {}),
    }
    key = str(uuid.uuid4())
    job = client.request(
        "POST", "jobs", {**spec, "idempotencyKey": key}, headers={"Idempotency-Key": key}
    )
    return PipelineJob(client=client, job=job, plan=planned["plan"])
