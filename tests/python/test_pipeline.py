"""LSST pipeline runs: the planner (``python -m user_batch.pipeline_plan DIR``) and the runner
(``python -m user_batch.runner JOBDIR`` → :mod:`user_batch.pipeline_run`) with the real middleware.

One butler repo per session, made by the demo's own repo maker (10 detectors); the pipeline is
``demo/pipelines/add.yaml`` (addA: demo_input + 10 → demo_a; addB: demo_a + 1 → demo_b). Every
plan and run is a subprocess started the way the proxy starts it, and real ``pipetask`` runs the
graph; results are read back from the butler. The planner's error cases run its ``main`` in
this process (the same code, without paying the stack's import for each).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO, process_gone

PIPELINE = REPO / "demo" / "pipelines" / "add.yaml"
DETECTORS = 10
ADD_A, ADD_B = 10, 1  # the addends in add.yaml


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO), e.get("PYTHONPATH")] if p)
    return e


class PipelineJob:
    """A job folder with pipeline.json and run.json, planned and run as the proxy would."""

    count = 0

    def __init__(self, root: Path, repo: Path, **spec):
        PipelineJob.count += 1
        name = f"p{PipelineJob.count}"
        self.dir = root / name
        self.dir.mkdir(parents=True)
        self.spec = {
            "jobId": name,
            "butlerRepo": str(repo),
            "pipeline": str(PIPELINE),
            "labels": None,
            "inputCollections": ["demo/raw"],
            "outputCollection": f"u/tester/{name}",
            "outputRun": f"u/tester/{name}/20261202T120000Z",
            "dataQuery": "",
            "configOverrides": [],
            "configFiles": [],
            "cpus": 1,
            "walltimeSeconds": 300,
        }
        self.spec.update(spec)
        self.write("pipeline.json", self.spec)
        self.write("run.json", {"jobId": name, "kind": "pipeline", "walltimeSeconds": 300})
        self.proc: subprocess.Popen | None = None

    def write(self, name: str, data) -> None:
        (self.dir / name).write_text(json.dumps(data))

    def json(self, name: str):
        return json.loads((self.dir / name).read_text())

    def plan(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "user_batch.pipeline_plan", str(self.dir)],
            env=env(),
            capture_output=True,
            text=True,
            timeout=180,
        )

    def start(self) -> subprocess.Popen:
        """The runner as the local backend starts it: its own session, output into the log."""
        with open(self.dir / "output.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "user_batch.runner", str(self.dir)],
                cwd=self.dir,
                env=env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self.proc

    def run(self, timeout: float = 240) -> int:
        return self.start().wait(timeout=timeout)

    def log(self) -> str:
        return (self.dir / "output.log").read_text(errors="replace")


@pytest.fixture(scope="session")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("butler") / "repo"
    made = subprocess.run(
        [sys.executable, "-m", "user_batch.pipeline_demo", "make-repo", str(root)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert f"{DETECTORS} detectors" in made.stdout
    return root


@pytest.fixture(scope="session")
def jobs_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pipeline-jobs")


@pytest.fixture(scope="session")
def started_jobs():
    jobs: list[PipelineJob] = []
    yield jobs
    for job in jobs:  # never leave a runner or pipetask behind, even when a test failed
        if job.proc is not None and job.proc.poll() is None:
            os.killpg(job.proc.pid, signal.SIGKILL)
            job.proc.wait()


@pytest.fixture
def make(repo, jobs_root, started_jobs):
    def make(**spec) -> PipelineJob:
        job = PipelineJob(jobs_root, repo, **spec)
        started_jobs.append(job)
        return job

    return make


def butler_values(repo: Path, dataset_type: str, collection: str) -> dict[int, list[int]]:
    """Each detector's array of ``dataset_type`` in ``collection``, read with the butler."""
    from lsst.daf.butler import Butler

    with Butler.from_config(str(repo)) as butler:
        refs = butler.query_datasets(dataset_type, collections=collection, explain=False)
        return {ref.dataId["detector"]: butler.get(ref).tolist() for ref in refs}


def expected(detector: int, *addends: int) -> list[int]:
    from user_batch.pipeline_demo import input_array

    return (input_array(detector) + sum(addends)).tolist()


# --------------------------------------------------------------------------- the demo repo


def test_make_repo_on_an_existing_repo_says_so_and_leaves_it(repo):
    again = subprocess.run(
        [sys.executable, "-m", "user_batch.pipeline_demo", "make-repo", str(repo)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "already a butler repo" in again.stdout
    assert butler_values(repo, "demo_input", "demo/raw") == {
        d: expected(d) for d in range(DETECTORS)
    }


# --------------------------------------------------------------------------- plan and run


@pytest.fixture(scope="session")
def override_run(repo, jobs_root, started_jobs):
    """addA's addend overridden to 100, over three detectors of ten: planned, then run."""
    job = PipelineJob(
        jobs_root,
        repo,
        dataQuery="instrument='DEMO' AND detector IN (1, 4, 7)",
        configOverrides=[{"label": "addA", "field": "addend", "value": "100"}],
    )
    started_jobs.append(job)
    planned = job.plan()
    assert planned.returncode == 0, planned.stderr
    plan = job.json("pipeline-plan.json")
    code = job.run()
    return job, plan, code


def test_the_plan_counts_quanta_per_label(override_run):
    job, plan, _ = override_run
    assert [(p["label"], p["quanta"]) for p in plan["labels"]] == [("addA", 3), ("addB", 3)]
    assert plan["totalQuanta"] == 6
    assert plan["labels"][0]["taskClass"] == "user_batch.pipeline_demo.AddTask"
    assert plan["outputRun"] == job.spec["outputRun"]
    # the expanded pipeline carries the override
    assert "addend: '100'" in plan["expandedPipeline"]
    assert plan["versions"]["lsst-pipe-base"]


def test_the_run_writes_the_overridden_sums_for_the_queried_detectors(override_run, repo):
    job, plan, code = override_run
    assert code == 0, job.log()
    assert job.json("exit.json")["reason"] == "ok"
    run = plan["outputRun"]
    assert butler_values(repo, "demo_a", run) == {d: expected(d, 100) for d in (1, 4, 7)}
    assert butler_values(repo, "demo_b", run) == {d: expected(d, 100, ADD_B) for d in (1, 4, 7)}
    # the output collection chains the run and the inputs
    assert butler_values(repo, "demo_b", job.spec["outputCollection"]).keys() == {1, 4, 7}


def test_the_quanta_planned_are_the_quanta_that_ran(override_run):
    job, plan, _ = override_run
    progress = job.json("pipeline-progress.json")
    assert [
        (p["label"], p["quanta"], p["succeeded"], p["failed"], p["blocked"])
        for p in progress["labels"]
    ] == [(p["label"], p["quanta"], p["quanta"], 0, 0) for p in plan["labels"]]
    assert progress["failures"] == []
    assert job.json("progress.json") == {"total": 6, "done": 6, "failed": 0}


def test_the_provenance_records_what_ran_and_the_outputs(override_run):
    job, plan, _ = override_run
    prov = job.json("pipeline-provenance.json")
    assert prov["status"] == "ok"
    assert prov["outputRun"] == plan["outputRun"]
    assert prov["inputCollections"] == ["demo/raw"]
    assert prov["dataQuery"] == job.spec["dataQuery"]
    assert prov["pipeline"]["content"] == PIPELINE.read_text()
    assert prov["expandedPipeline"] == plan["expandedPipeline"]
    assert prov["graph"]["sha256"] == plan["graphSha256"]
    outputs = {o["datasetType"]: o["count"] for o in prov["outputs"]}
    assert outputs["demo_a"] == 3 and outputs["demo_b"] == 3
    assert outputs["addA_metadata"] == 3
    assert "pipetask" in prov["command"][0] and "-g" in prov["command"]
    assert "lsst-daf-butler" in prov["versions"]
    log = job.log()
    assert "[batch] exit 0 (ok)" in log
    assert "Executed 6 quanta successfully" in log  # pipetask's own output is in the job log


def test_labels_and_subsets_select_tasks(make):
    job = make(labels=["first"])  # the subset holding addA only
    planned = job.plan()
    assert planned.returncode == 0, planned.stderr
    plan = job.json("pipeline-plan.json")
    assert [(p["label"], p["quanta"]) for p in plan["labels"]] == [("addA", DETECTORS)]
    assert list(yaml.safe_load(plan["expandedPipeline"])["tasks"]) == ["addA"]


# --------------------------------------------------------------------------- failing quanta


def test_a_failing_quantum_is_named_and_its_downstream_quantum_blocked(make, repo):
    job = make(
        dataQuery="instrument='DEMO' AND detector IN (1, 2, 3)",
        configOverrides=[{"label": "addA", "field": "failOnDetectors", "value": "[2]"}],
    )
    assert job.plan().returncode == 0
    assert job.run() == 1, job.log()
    exit_ = job.json("exit.json")
    assert exit_["reason"] == "quanta_failed"
    assert "detector=2" in exit_["message"] and "InjectedFailure" in exit_["message"]
    progress = job.json("pipeline-progress.json")
    by_label = {p["label"]: p for p in progress["labels"]}
    assert (by_label["addA"]["succeeded"], by_label["addA"]["failed"]) == (2, 1)
    assert (by_label["addB"]["succeeded"], by_label["addB"]["blocked"]) == (2, 1)
    [failure] = progress["failures"]
    assert failure["label"] == "addA"
    assert failure["dataId"] == {"instrument": "DEMO", "detector": 2}
    assert failure["exception"].endswith("InjectedFailure")
    assert "detector 2 is in failOnDetectors" in failure["message"]
    assert "raise InjectedFailure" in failure["log"]  # the end of that quantum's log
    assert job.json("progress.json") == {"total": 6, "done": 4, "failed": 2}
    error = job.json("error.json")
    assert error["ename"] == "InjectedFailure"
    # the other quanta's outputs are in the run
    assert butler_values(repo, "demo_b", job.spec["outputRun"]).keys() == {1, 3}


# --------------------------------------------------------------------------- planner errors


@pytest.fixture(scope="session")
def clash_type(repo) -> str:
    """A dataset type another pipeline registered with another storage class."""
    from lsst.daf.butler import Butler, DatasetType

    with Butler.from_config(str(repo), writeable=True) as butler:
        butler.registry.registerDatasetType(
            DatasetType(
                "demo_other",
                ("instrument", "detector"),
                "StructuredDataDict",
                universe=butler.dimensions,
            )
        )
    return "demo_other"


def plan_error(job: PipelineJob) -> dict:
    from user_batch import pipeline_plan

    assert pipeline_plan.main([str(job.dir)]) == 2
    assert not (job.dir / "pipeline.qg").exists()
    assert not (job.dir / "pipeline-plan.json").exists()
    return job.json("pipeline-plan-error.json")


def override(label: str, field: str, value: str) -> dict:
    return {"configOverrides": [{"label": label, "field": field, "value": value}]}


@pytest.mark.parametrize(
    ("spec", "sentence", "detail"),
    [
        (
            {"pipeline": "/nonexistent/p.yaml"},
            "The pipeline file /nonexistent/p.yaml does not exist; choose an existing pipeline YAML file.",
            "No such file",
        ),
        (
            {"pipeline": str(REPO / "pyproject.toml")},
            "is not a pipeline that can be read (a pipeline YAML has a 'tasks:' section)",
            "",
        ),
        (
            {"labels": ["addX"]},
            "The pipeline add.yaml has no task or subset named 'addX'; choose labels that it defines.",
            "extra labels",
        ),
        (
            {"dataQuery": "detector IN (0,"},
            "The data query 'detector IN (0,' is not valid: ",
            "Failed to parse",
        ),
        (
            {"dataQuery": "exposure_thing = 3"},
            "The data query 'exposure_thing = 3' cannot be used: Unrecognized identifier "
            "'exposure_thing'; use dimensions and values that exist in the repository.",
            "InvalidQueryError",
        ),
        (
            {"inputCollections": ["nobody/raw"]},
            "The input collection 'nobody/raw' does not exist in the butler repository; "
            "choose existing collections (butler query-collections lists them).",
            "MissingCollectionError",
        ),
        (
            override("addA", "connections.input", "demo_missing"),
            "The pipeline reads dataset type 'demo_missing', which this butler repository does "
            "not know;",
            "MissingDatasetTypeError",
        ),
        (
            override("addA", "adend", "3"),
            "The config override addA:adend=3 cannot be applied: "
            "user_batch.pipeline_demo.AddConfig has no attribute adend; fix the field name or the value.",
            "AttributeError",
        ),
        (
            override("addB", "addend", "three"),
            "The config override addB:addend=three cannot be applied: Field 'addend' failed "
            "validation",
            "incorrect type",
        ),
        (
            override("addC", "addend", "3"),
            "The override addC:addend=3 names task 'addC', which is not in the pipeline; "
            "use one of its labels: addA, addB.",
            "addC",
        ),
        (
            {"dataQuery": "instrument='DEMO' AND detector = 99"},
            "The query selects no data: no quanta could be made from the input collections "
            "demo/raw with the data query \"instrument='DEMO' AND detector = 99\"",
            "returned no rows",
        ),
    ],
    ids=[
        "missing-file",
        "not-a-pipeline",
        "unknown-label",
        "query-syntax",
        "query-unknown-dimension",
        "unknown-collection",
        "unknown-dataset-type",
        "override-unknown-field",
        "override-bad-value",
        "override-unknown-label",
        "empty-graph",
    ],
)
def test_a_planner_error_is_one_sentence(make, spec, sentence, detail):
    error = plan_error(make(**spec))
    assert sentence in error["message"]
    assert error["message"].endswith(".") and "\n" not in error["message"]
    assert detail in error["detail"]


def test_a_bad_config_file_names_the_file_and_line(make, tmp_path):
    bad = tmp_path / "overrides.py"
    bad.write_text("config.addend = 5\nconfig.nosuchfield = 1\n")
    error = plan_error(make(configFiles=[{"label": "addB", "path": str(bad)}]))
    assert error["message"] == (
        f"The config override file {bad} for task addB failed at line 2: "
        "user_batch.pipeline_demo.AddConfig has no attribute nosuchfield; fix the file."
    )


def test_a_dataset_type_defined_differently_in_the_repo_is_refused(make, clash_type):
    error = plan_error(make(**override("addB", "connections.output", clash_type)))
    assert error["message"] == (
        f"The dataset type '{clash_type}' is already defined differently in this butler "
        "repository (by another pipeline); rename it in this pipeline (a connections override) "
        "or use another repository."
    )
    assert "StructuredDataDict" in error["detail"] and "NumpyArray" in error["detail"]


def test_an_output_run_that_exists_is_refused(make, override_run):
    job, plan, _ = override_run
    error = plan_error(
        make(outputCollection=job.spec["outputCollection"], outputRun=plan["outputRun"])
    )
    assert error["message"] == (
        f"The output run {plan['outputRun']} already exists; choose another output collection."
    )


# --------------------------------------------------------------------------- cancel


def pids_in_group(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                found.append(int(entry))
    return found


def test_cancel_stops_pipetask_and_leaves_no_process(make):
    job = make(
        dataQuery="instrument='DEMO' AND detector = 0",
        configOverrides=[{"label": "addA", "field": "sleepSeconds", "value": "120"}],
    )
    assert job.plan().returncode == 0
    proc = job.start()
    wait_for_quantum(job, proc)
    pipetask = job.json("launch.json")["pipetaskPid"]
    os.killpg(proc.pid, signal.SIGTERM)  # as the proxy cancels: the runner's process group
    assert proc.wait(timeout=30) == 143, job.log()
    assert job.json("exit.json")["reason"] == "cancelled"
    assert process_gone(pipetask)
    assert pids_in_group(proc.pid) == []


def wait_for_quantum(job: PipelineJob, proc: subprocess.Popen) -> None:
    """Until pipetask is inside a quantum (the task sleeps there)."""
    deadline = time.monotonic() + 120
    log = job.dir / "pipeline-log.json"
    while not (log.exists() and "Constructing task" in log.read_text()):
        assert proc.poll() is None, job.log()
        assert time.monotonic() < deadline, job.log()
        time.sleep(0.2)


def test_walltime_stops_pipetask(make):
    job = make(
        dataQuery="instrument='DEMO' AND detector = 0",
        configOverrides=[{"label": "addA", "field": "sleepSeconds", "value": "120"}],
        walltimeSeconds=5,
    )
    assert job.plan().returncode == 0
    proc = job.start()
    assert proc.wait(timeout=90) == 124, job.log()
    assert job.json("exit.json")["reason"] == "walltime"
    assert process_gone(job.json("launch.json")["pipetaskPid"])
    assert pids_in_group(proc.pid) == []


# --------------------------------------------------------------------------- progress while it runs


def test_progress_is_written_while_quanta_run(make):
    job = make(
        dataQuery="instrument='DEMO' AND detector IN (0, 1)",
        configOverrides=[{"label": "addA", "field": "sleepSeconds", "value": "1.2"}],
    )
    assert job.plan().returncode == 0
    proc = job.start()
    seen = []  # (addA succeeded, progress.json done) as the runner wrote them
    while proc.poll() is None:
        try:
            labels = job.json("pipeline-progress.json")["labels"]
            done = job.json("progress.json")["done"]
        except (FileNotFoundError, ValueError):
            labels, done = None, None
        if labels is not None and (not seen or seen[-1] != (labels[0]["succeeded"], done)):
            seen.append((labels[0]["succeeded"], done))
        time.sleep(0.1)
    assert proc.returncode == 0, job.log()
    assert seen[0] == (0, 0)
    # at least one state between nothing done and all done was on disk while pipetask ran
    assert any(0 < a < 2 for a, _ in seen), seen
    assert job.json("progress.json") == {"total": 4, "done": 4, "failed": 0}


# --------------------------------------------------------------------------- runner errors


def test_a_job_without_a_graph_is_a_runner_error(make):
    job = make()  # never planned
    assert job.run() == 2
    exit_ = job.json("exit.json")
    assert exit_["reason"] == "runner_error"
    assert exit_["message"] == (
        "The job has no quantum graph (pipeline.qg): plan the pipeline before running it."
    )


def test_a_graph_that_ran_before_cannot_run_again(make, override_run):
    """The output run is fixed in the graph: a second run of it says so in a sentence."""
    done, plan, _ = override_run
    job = make(**done.spec)
    for name in ("pipeline.json", "pipeline.qg", "pipeline-plan.json"):
        (job.dir / name).write_bytes((done.dir / name).read_bytes())
    assert job.run() == 2, job.log()
    exit_ = job.json("exit.json")
    assert exit_["reason"] == "runner_error"
    assert exit_["message"].startswith(
        f"The output run {plan['outputRun']} already exists (this graph ran before); "
        "plan the pipeline again for a new output run."
    )
    assert "--extend-run" in job.json("error.json")["traceback"]
