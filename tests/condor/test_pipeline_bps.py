"""A pipeline job on the real HTCondor pool (bin/condor-pool) through BPS.

The job's runner is submitted as the htcondor backend does it for a pipeline (a local-universe
job running ``python -m user_batch.runner JOBDIR`` as the pool's user; pipeline.json says
``"engine": "bps"``, so :mod:`user_batch.pipeline_bps` runs it); it hands the graph
the planner built to ``bps submit``, and the quanta run as DAGMan jobs on the pool. The pool
must be up (``bin/test condor`` starts it; needs root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from user_batch.pipeline_demo import input_array, make_repo  # noqa: E402

PYTHON = str(REPO / ".venv" / "bin" / "python")
CONDOR_CMD = str(REPO / "bin" / "condor-cmd")
ACCOUNT, USER = "astro", "ann"
DETECTORS = 3
#: the demo pipeline's addends (demo/pipelines/add.yaml): addA +10, then addB +1
ADD_A, ADD_B = 10, 1
TIMEOUT = 600


def pool_env() -> dict:
    out = subprocess.run(
        [str(REPO / "bin" / "condor-pool"), "env"], capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split("=", 1) for line in out.split())


def condor(*args: str) -> str:
    return subprocess.run([CONDOR_CMD, *args], capture_output=True, text=True, check=True).stdout


def open_to_pool_user(path: Path) -> None:
    """The runner, BPS and the quanta run as the pool's user: let it write the repo and job."""
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o777)
    os.chmod(path, 0o777)


@pytest.fixture(scope="module")
def shared():
    folder = Path(pool_env()["USER_BATCH_CONDOR_SHARED"])
    condor("condor_status", "-af", "Name")  # the pool answers, or the test fails here
    base = Path(tempfile.mkdtemp(prefix="bps-test-", dir=folder))
    make_repo(str(base / "repo"), DETECTORS)
    open_to_pool_user(base)
    yield base
    shutil.rmtree(base, ignore_errors=True)


class PipelineJob:
    def __init__(self, base: Path, name: str, overrides: list[dict] | None = None, **spec_fields):
        self.dir = base / name
        self.dir.mkdir()
        self.repo = base / "repo"
        # unique per test session: BPS names its jobs' bps_run after the output run
        self.output = f"u/{USER}/{base.name}/{name}"
        self.spec = {
            "jobId": name,
            "engine": "bps",
            "butlerRepo": str(self.repo),
            "pipeline": str(REPO / "demo" / "pipelines" / "add.yaml"),
            "labels": None,
            "inputCollections": ["demo/raw"],
            "outputCollection": self.output,
            "outputRun": f"{self.output}/run1",
            "dataQuery": "",
            "configOverrides": overrides or [],
            "configFiles": [],
            "cpus": 1,
            "walltimeSeconds": TIMEOUT,
            "account": ACCOUNT,
            "user": USER,
            **spec_fields,
        }
        self.run = {"jobId": name, "kind": "pipeline", "cpus": 1, "memoryMiB": 512}
        self.run["walltimeSeconds"] = TIMEOUT
        (self.dir / "pipeline.json").write_text(json.dumps(self.spec))
        (self.dir / "run.json").write_text(json.dumps(self.run))
        planned = subprocess.run(
            [PYTHON, "-m", "user_batch.pipeline_plan", str(self.dir)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
        )
        assert planned.returncode == 0, planned.stderr
        self.plan = self.read("pipeline-plan.json")
        open_to_pool_user(base)
        self.cluster: str | None = None

    def read(self, name: str) -> dict:
        return json.loads((self.dir / name).read_text())

    def submit(self) -> float:
        """The runner as a local-universe job of the pool's user; the time it was submitted."""
        sub = self.dir / "runner.sub"
        sub.write_text(
            "\n".join(
                [
                    "universe = local",
                    f"executable = {PYTHON}",
                    f"arguments = -m user_batch.runner {self.dir}",
                    f'environment = "PYTHONPATH={REPO} HOME=/home/batchuser PATH=/usr/bin:/bin"',
                    f"initialdir = {self.dir}",
                    f"output = {self.dir}/output.log",
                    f"error = {self.dir}/output.log",
                    f"log = {self.dir}/condor.log",
                    "kill_sig = SIGTERM",
                    f"accounting_group = {ACCOUNT}",
                    f"accounting_group_user = {USER}",
                    "queue 1",
                    "",
                ]
            )
        )
        os.chmod(sub, 0o666)
        started = time.monotonic()
        self.cluster = condor("condor_submit", "-terse", str(sub)).split()[0].split(".")[0]
        return started

    def wait_exit(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while not (self.dir / "exit.json").exists():
            assert time.monotonic() < deadline, self.log()
            time.sleep(1)
        return self.read("exit.json")

    def log(self) -> str:
        path = self.dir / "output.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"

    def butler_values(self, dataset_type: str) -> dict[int, list[int]]:
        from lsst.daf.butler import Butler

        with Butler.from_config(str(self.repo)) as butler:
            refs = butler.query_datasets(dataset_type, collections=self.output, limit=None)
            return {ref.dataId["detector"]: butler.get(ref).tolist() for ref in refs}

    def history(self) -> list[list[str]]:
        """Label, accounting group and user of every job BPS submitted for this run."""
        run = self.plan["outputRun"].replace("/", "_")
        out = condor(
            "condor_history",
            "-constraint",
            # the DAGMan job carries bps_run too, but no job label
            f'bps_run == "{run}" && bps_job_label =!= undefined',
            "-af",
            "bps_job_label",
            "AcctGroup",
            "AcctGroupUser",
        )
        return [line.split() for line in out.splitlines() if line.strip()]


def test_a_planned_pipeline_runs_through_bps_on_the_pool(shared):
    job = PipelineJob(shared, "ok")
    started = job.submit()
    end = job.wait_exit()
    print(f"runner submit -> exit.json: {time.monotonic() - started:.1f} s")
    assert end["reason"] == "ok", job.log()

    # the outputs are in the butler, in the output collection, with the expected values
    expected = {d: (input_array(d) + ADD_A + ADD_B).tolist() for d in range(DETECTORS)}
    assert job.butler_values("demo_b") == expected
    assert job.butler_values("demo_a") == {
        d: (input_array(d) + ADD_A).tolist() for d in range(DETECTORS)
    }

    # the quanta that ran are the planned graph's, label by label
    progress = job.read("pipeline-progress.json")
    assert [(p["label"], p["succeeded"]) for p in progress["labels"]] == [
        (entry["label"], entry["quanta"]) for entry in job.plan["labels"]
    ]
    assert sum(p["succeeded"] for p in progress["labels"]) == job.plan["totalQuanta"] == 6
    assert job.read("progress.json") == {"total": 6, "done": 6, "failed": 0}

    # BPS's jobs were charged to the job's account and user
    jobs = job.history()
    assert sorted(label for label, _, _ in jobs) == sorted(
        ["pipetaskInit", "finalJob"] + ["addA"] * 3 + ["addB"] * 3
    )
    assert {(group, user) for _, group, user in jobs} == {(ACCOUNT, USER)}

    # provenance names the graph that ran and BPS's submit folder
    record = job.read("pipeline-provenance.json")
    assert record["status"] == "succeeded"
    assert record["graph"]["sha256"] == job.plan["graphSha256"]
    assert {o["datasetType"]: o["count"] for o in record["outputs"]}["demo_b"] == DETECTORS
    assert list(Path(record["bps"]["submitPath"]).glob("*.dag"))
    assert record["bps"]["graph"]["file"].startswith(record["bps"]["submitPath"])


def test_a_failing_quantum_fails_the_job_names_its_data_id_and_blocks_downstream(shared):
    overrides = [{"label": "addA", "field": "failOnDetectors", "value": "[1]"}]
    job = PipelineJob(shared, "fails", overrides)
    job.submit()
    end = job.wait_exit()
    assert end["reason"] == "quanta_failed", job.log()

    progress = job.read("pipeline-progress.json")
    by_label = {p["label"]: p for p in progress["labels"]}
    assert (by_label["addA"]["succeeded"], by_label["addA"]["failed"]) == (2, 1)
    assert (by_label["addB"]["succeeded"], by_label["addB"]["blocked"]) == (2, 1)
    [failure] = progress["failures"]
    assert failure["label"] == "addA"
    assert failure["dataId"] == {"instrument": "DEMO", "detector": 1}
    assert failure["exception"].endswith("InjectedFailure")
    assert "failOnDetectors" in failure["message"]
    assert "addA on instrument='DEMO', detector=1: InjectedFailure" in end["message"]
    assert job.read("error.json")["ename"].endswith("InjectedFailure")
    assert job.read("progress.json") == {"total": 6, "done": 4, "failed": 2}

    # the quanta that succeeded are in the butler (the final job ran)
    assert sorted(job.butler_values("demo_b")) == [0, 2]


def test_clustered_by_detector_one_job_runs_each_detector_chain(shared):
    overrides = [{"label": "addA", "field": "failOnDetectors", "value": "[1]"}]
    job = PipelineJob(shared, "clustered", overrides, clusterDimensions=["detector"])
    started = job.submit()
    end = job.wait_exit()
    print(f"clustered: runner submit -> exit.json: {time.monotonic() - started:.1f} s")
    assert end["reason"] == "quanta_failed", job.log()

    # three jobs (one per detector: addA then addB) instead of six, plus init and final
    labels = sorted(label for label, _, _ in job.history())
    assert labels == ["clustered"] * 3 + ["finalJob", "pipetaskInit"]

    # per-quantum progress still, from the cluster jobs' logs
    progress = job.read("pipeline-progress.json")
    by_label = {p["label"]: p for p in progress["labels"]}
    assert (by_label["addA"]["succeeded"], by_label["addA"]["failed"]) == (2, 1)
    assert (by_label["addB"]["succeeded"], by_label["addB"]["blocked"]) == (2, 1)
    [failure] = progress["failures"]
    assert (failure["label"], failure["dataId"]) == ("addA", {"instrument": "DEMO", "detector": 1})
    assert failure["exception"] == "InjectedFailure"
    assert job.butler_values("demo_b") == {
        d: (input_array(d) + ADD_A + ADD_B).tolist() for d in (0, 2)
    }


def test_cancel_removes_the_bps_workflow(shared):
    job = PipelineJob(shared, "cancel")
    job.submit()
    deadline = time.monotonic() + TIMEOUT
    while "Run Id:" not in job.log():
        assert time.monotonic() < deadline, job.log()
        time.sleep(0.5)
    condor("condor_rm", job.cluster)  # the runner gets SIGTERM (kill_sig) and runs bps cancel
    end = job.wait_exit()
    assert end["reason"] == "cancelled", job.log()
    run = job.plan["outputRun"].replace("/", "_")
    deadline = time.monotonic() + 60
    while condor("condor_q", "-constraint", f'bps_run == "{run}"', "-af", "ClusterId").strip():
        assert time.monotonic() < deadline, "the workflow's jobs are still queued"
        time.sleep(1)
    assert job.read("pipeline-provenance.json")["status"] == "cancelled"
