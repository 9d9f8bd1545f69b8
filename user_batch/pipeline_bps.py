"""A pipeline run on HTCondor through BPS: ``python -m user_batch.pipeline_bps JOBDIR``.

On the htcondor backend the runner itself is a local-universe job on the submit host; for a
pipeline whose ``pipeline.json`` says ``"engine": "bps"`` it hands the graph the planner built
(``JOBDIR/pipeline.qg``, :mod:`user_batch.pipeline_plan`) to ``bps submit`` with the HTCondor
plugin: BPS turns it into a DAGMan workflow (one job per quantum, an init job, a final job that
brings the outputs into the butler) and this module only watches that workflow.

What it writes in JOBDIR, besides the runner's usual ``launch.json``/``env.json``/``exit.json``:

* ``bps-submit.yaml``          the BPS submit config, made from pipeline.json + run.json
  (:func:`bps_config`, dumped with PyYAML: values stay data);
* ``bps-submit/``              BPS's submit folder (DAG, per-job submit files and logs);
* ``pipeline-progress.json``   quanta per label (succeeded / failed / blocked) from BPS's report,
  and each failed quantum's data ID, exception and log tail;
* ``progress.json``            the same as totals;
* ``pipeline-provenance.json`` at the end, with ``bps: {submitPath, runId, config}``.

Fields this module reads from pipeline.json besides the planner's: ``engine`` ("bps"),
``account`` and ``user`` (HTCondor ``accounting_group``/``accounting_group_user``),
``clusterDimensions`` (optional: one BPS job per value of these dimensions runs every label's
quanta there, e.g. ``["detector"]``; per-quantum progress then comes from the jobs' logs). From run.json:
``cpus`` and ``memoryMiB`` (what each quantum's job asks for), ``walltimeSeconds``.

SIGTERM/SIGINT run ``bps cancel`` and end with 143; the walltime does the same with 124.
Exit 0 when every quantum and the final job succeeded, 1 (``quanta_failed``) when quanta failed,
2 (``runner_error``) when BPS could not submit or its init/final job failed.
"""

from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time
from importlib import resources

import yaml

from user_batch import pipeline_plan
from user_batch.jobdir import (
    Log,
    RunnerError,
    now_iso,
    read_json_object,
    write_environment,
    write_exit,
    write_json_atomic,
    write_launch,
)
from user_batch.jobfiles import (
    ERROR_JSON,
    EXIT_CANCELLED,
    EXIT_CELL_ERROR,
    EXIT_OK,
    EXIT_RUNNER_ERROR,
    EXIT_WALLTIME,
    PIPELINE_GRAPH,
    PIPELINE_PLAN_JSON,
    PIPELINE_PROGRESS_JSON,
    PIPELINE_PROVENANCE_JSON,
    PROGRESS_JSON,
    RUN_JSON,
)

ENGINE = "bps"
#: the cluster label BPS gives a job of several quanta (``clusterDimensions`` in pipeline.json)
CLUSTER_LABEL = "clustered"
CLUSTER_ALGORITHM = "lsst.ctrl.bps.quantum_clustering_funcs.dimension_clustering"
SUBMIT_YAML = "bps-submit.yaml"
SUBMIT_DIR = "bps-submit"
WMS_SERVICE = "lsst.ctrl.bps.htcondor.HTCondorService"
#: the final job (``butler aggregate-graph``) asks 16 CPUs / 32 GiB by default: no slot of a
#: small pool has that, so the workflow would never end
FINAL_JOB_MEMORY_MIB = 2048
#: seconds between two looks at the workflow
POLL_SECONDS = 2.0
#: the longest log tail kept for a failed quantum
LOG_TAIL_CHARS = 4000

#: BPS's default commands name the tools by environment variables (``${CTRL_MPEXEC_DIR}`` ...)
#: that DAGMan does not pass on to the jobs it submits: the commands here are BPS's own, read
#: from the installed defaults, with those variables replaced by this interpreter's folder.
COMMAND_KEYS = (
    ("runQuantumCommand",),
    ("pipetask", "pipetaskInit", "runQuantumCommand"),
    ("updateQuantumGraph",),
    ("finalJob", "command1"),
)
TOOL_VARIABLES = {
    "${CTRL_MPEXEC_DIR}/bin/pipetask": "pipetask",
    "${DAF_BUTLER_DIR}/bin/butler": "butler",
}


class Cancelled(Exception):
    pass


# --------------------------------------------------------------------------- the submit config


def bps_defaults() -> dict:
    text = resources.files("lsst.ctrl.bps").joinpath("etc", "bps_defaults.yaml").read_text()
    return yaml.safe_load(text)


def tool_commands(bin_dir: str) -> dict:
    """BPS's default commands, pointing at the tools in ``bin_dir``, as a nested dict."""
    defaults = bps_defaults()
    out: dict = {}
    for keys in COMMAND_KEYS:
        command = defaults
        for key in keys:
            command = command[key]
        if not any(variable in command for variable in TOOL_VARIABLES):
            raise RunnerError(f"BPS's default {'.'.join(keys)} names no tool we know: {command!r}")
        for variable, tool in TOOL_VARIABLES.items():
            command = command.replace(variable, os.path.join(bin_dir, tool))
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = command
    return out


#: BPS reads ``{name}`` in any setting as a reference to another setting and ``${NAME}`` as an
#: environment variable: such a value cannot go through BPS as it is
BPS_TEMPLATE = re.compile(r"[{}]|\$")


def check_bps_value(what: str, value: str) -> str:
    if BPS_TEMPLATE.search(value):
        raise RunnerError(
            f"{what} {value!r} contains '{{', '}}' or '$', which BPS reads as a variable: "
            "rename it to run this pipeline on HTCondor, or run it on the local backend"
        )
    return value


def merge(into: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def has_dimensions(entry: dict, dimensions: list[str]) -> bool:
    """Whether a planned label's quanta have these dimensions (a plan without them: assume so)."""
    known = entry.get("dimensions")
    return known is None or set(dimensions) <= set(known)


def bps_config(jobdir: str, spec: dict, plan: dict, run: dict, bin_dir: str) -> dict:
    """The BPS submit config for this job, as data (dumped to YAML by :func:`write_config`)."""
    cpus = int(run.get("cpus") or spec.get("cpus") or 1)
    memory = int(run.get("memoryMiB") or 2048)
    user = spec.get("user")
    account = spec.get("account")
    payload = {
        # the payload name shows in `bps report`; BPS also puts it in default paths we override
        "payloadName": check_bps_value("job id", str(spec.get("jobId") or "pipeline")),
        "butlerConfig": check_bps_value("butler repo", spec["butlerRepo"]),
        "inCollection": ",".join(
            check_bps_value("input collection", c) for c in plan["inputCollections"]
        ),
        "dataQuery": check_bps_value("data query", plan["dataQuery"]),
        "output": check_bps_value("output collection", plan["outputCollection"]),
        # the run the graph was built for: BPS rewrites the graph's run to this one
        "outputRun": check_bps_value("output run", plan["outputRun"]),
    }
    config: dict = {
        "pipelineYaml": check_bps_value("pipeline", pipeline_plan.pipeline_uri(spec)),
        # the graph built at plan time: BPS copies it into its submit folder and does not rebuild it
        "qgraphFile": os.path.join(jobdir, PIPELINE_GRAPH),
        "payload": payload,
        "requestCpus": cpus,
        "requestMemory": memory,
        "finalJob": {"requestCpus": 1, "requestMemory": min(memory, FINAL_JOB_MEMORY_MIB)},
        "wmsServiceClass": WMS_SERVICE,
        "submitPath": os.path.join(jobdir, SUBMIT_DIR),
    }
    dimensions = spec.get("clusterDimensions") or []
    if dimensions and any(entry["label"] == CLUSTER_LABEL for entry in plan["labels"]):
        raise RunnerError(
            f"a task label is '{CLUSTER_LABEL}', the name BPS would give the cluster jobs: "
            "rename the label or run without clusterDimensions"
        )
    # only labels that have every cluster dimension can be clustered by them (BPS refuses the
    # others); the rest run a job per quantum
    clustered = [entry["label"] for entry in plan["labels"] if has_dimensions(entry, dimensions)]
    if dimensions and clustered:
        # one cluster definition over those labels: a job runs the chain of quanta sharing these
        # dimensions' values (e.g. every label's quantum of one detector) in one pipetask
        config["clusterAlgorithm"] = CLUSTER_ALGORITHM
        config["cluster"] = {
            CLUSTER_LABEL: {
                "pipetasks": ",".join(check_bps_value("task label", label) for label in clustered),
                "dimensions": ",".join(check_bps_value("dimension", d) for d in dimensions),
            }
        }
    if isinstance(user, str) and user:
        config["operator"] = check_bps_value("user", user)
        config["accountingUser"] = user
    if isinstance(account, str) and account:
        config["accountingGroup"] = check_bps_value("account", account)
    return merge(config, tool_commands(bin_dir))


def write_config(jobdir: str, config: dict) -> str:
    path = os.path.join(jobdir, SUBMIT_YAML)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False, allow_unicode=True)
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- watching the workflow


def report(submit_path: str):
    """BPS's report of the run in ``submit_path`` (None until BPS can read it)."""
    from lsst.ctrl.bps.report import retrieve_report

    reports, _messages = retrieve_report(WMS_SERVICE, run_id=submit_path)
    return reports[0] if reports else None


def state_name(state) -> str:
    return getattr(state, "name", str(state))


def label_progress(
    plan: dict, run_report, ended: bool, clustered: dict | None = None
) -> list[dict]:
    """Quanta per label: from BPS's jobs where a job is one quantum, plus what the logs of
    ended cluster jobs say (``clustered``: label → {"succeeded", "failed"}, :func:`cluster_quanta`)."""
    summary: dict[str, dict[str, int]] = {}
    for job in (run_report.jobs if run_report else None) or []:
        counts = summary.setdefault(job.label, {})
        counts[state_name(job.state)] = counts.get(state_name(job.state), 0) + 1
    for label, counts in (clustered or {}).items():
        into = summary.setdefault(label, {})
        into["SUCCEEDED"] = into.get("SUCCEEDED", 0) + counts["succeeded"]
        into["FAILED"] = into.get("FAILED", 0) + counts["failed"]
    out = []
    for entry in plan["labels"]:
        counts = summary.get(entry["label"]) or {}
        succeeded = counts.get("SUCCEEDED", 0)
        failed = counts.get("FAILED", 0)
        blocked = counts.get("PRUNED", 0)
        if ended:  # whatever did not run by now never will
            blocked = max(entry["quanta"] - succeeded - failed, blocked)
        out.append(
            {
                "label": entry["label"],
                "quanta": entry["quanta"],
                "succeeded": succeeded,
                "failed": failed,
                "blocked": blocked,
            }
        )
    return out


#: what pipetask raises after a quantum failed, around the task's exception
EXECUTOR_ERRORS = ("MPGraphExecutorError",)
EXCEPTION_LINE = re.compile(r"^(?:.*\s)?([A-Za-z_][\w.]*(?:Error|Exception|Failure)): (.*)$")


#: pipetask's line per quantum in a job's log (the only per-quantum record of a cluster job):
#: "Execution of task 'L' on quantum {k: v, ...} took 0.05 seconds" or "... failed. Exception
#: Name: message"
QUANTUM_LINE = re.compile(
    r"Execution of task '([^']+)' on quantum \{([^}]*)\} (?:took|failed\. Exception ([\w.]+): (.*))"
)
DATA_ID_ITEM = re.compile(r"(\w+): (?:'([^']*)'|(-?\d+))")


def parse_data_id(text: str) -> dict:
    return {
        m.group(1): m.group(2) if m.group(3) is None else int(m.group(3))
        for m in DATA_ID_ITEM.finditer(text)
    }


def job_log(submit_path: str, label: str, name: str) -> str:
    # a job's folder is jobs/<label>/ plus BPS's subDirTemplate parts (e.g. visit) when set
    pattern = os.path.join(glob.escape(os.path.join(submit_path, "jobs", label)), "**", "")
    files = sorted(
        glob.glob(f"{pattern}{glob.escape(name)}.*.out", recursive=True),
        key=os.path.getmtime,
    )
    if not files:
        return ""
    with open(files[-1], encoding="utf-8", errors="replace") as f:
        return f.read()


def quantum_data_ids(graph_path: str) -> dict[str, dict]:
    """Quantum id (as BPS names jobs by it) → data ID, from the graph."""
    from lsst.pipe.base.pipeline_graph import TaskImportMode
    from lsst.pipe.base.quantum_graph import PredictedQuantumGraph

    with PredictedQuantumGraph.open(graph_path, import_mode=TaskImportMode.DO_NOT_IMPORT) as reader:
        reader.read_thin_graph()
        graph = reader.finish()
    out = {}
    for by_data_id in graph.quanta_by_task.values():
        for data_id, quantum_id in by_data_id.items():
            out[str(quantum_id)] = {k: v for k, v in data_id.required.items()}
    return out


def cluster_quanta(submit_path: str, run_report) -> tuple[dict, list[dict]]:
    """From the logs of ended cluster jobs: per task label {succeeded, failed}, and the failures."""
    counts: dict[str, dict[str, int]] = {}
    failed: list[dict] = []
    for job in (run_report.jobs if run_report else None) or []:
        if job.label != CLUSTER_LABEL or state_name(job.state) not in ("SUCCEEDED", "FAILED"):
            continue
        text = job_log(submit_path, job.label, job.name)
        for line in text.splitlines():
            m = QUANTUM_LINE.search(line)
            if not m:
                continue
            label = m.group(1)
            entry = counts.setdefault(label, {"succeeded": 0, "failed": 0})
            if m.group(3) is None:
                entry["succeeded"] += 1
                continue
            entry["failed"] += 1
            failed.append(
                {
                    "label": label,
                    "dataId": parse_data_id(m.group(2)),
                    "exception": m.group(3),
                    "message": m.group(4).strip(),
                    "log": text[-LOG_TAIL_CHARS:],
                }
            )
    return counts, failed


def failures(submit_path: str, plan: dict, run_report, data_ids: dict) -> list[dict]:
    labels = {entry["label"] for entry in plan["labels"]}
    out = []
    for job in (run_report.jobs if run_report else None) or []:
        if job.label not in labels or state_name(job.state) != "FAILED":
            continue
        text = job_log(submit_path, job.label, job.name)
        exception, message = "", ""
        # the task's own exception, not the executor's "One or more tasks failed" after it
        for line in text.splitlines():
            m = EXCEPTION_LINE.match(line.strip())
            if m and not m.group(1).endswith(EXECUTOR_ERRORS):
                exception, message = m.group(1), m.group(2)
                break
        out.append(
            {
                "label": job.label,
                "dataId": data_ids.get(job.name.split("_", 1)[0], {}),
                "exception": exception or "unknown",
                "message": message or f"the job {job.name} failed; see its log",
                "log": text[-LOG_TAIL_CHARS:],
            }
        )
    return out


# --------------------------------------------------------------------------- the run


class BpsRun:
    def __init__(self, jobdir: str, log: Log):
        self.jobdir = jobdir
        self.log = log
        self.submit_path = os.path.join(jobdir, SUBMIT_DIR)
        self.run_id: str | None = None
        self.cancel_signal: str | None = None
        self.env = dict(os.environ)
        self.bps = os.path.join(os.path.dirname(sys.executable), "bps")

    def bps_command(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.bps, *args],
            cwd=self.jobdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def submit(self, config_path: str) -> str:
        self.log.batch(f"bps submit {config_path}")
        done = self.bps_command("submit", config_path)
        self.log.write(done.stdout)
        m = re.search(r"^Run Id: (\S+)", done.stdout, re.M)
        if done.returncode != 0 or not m:
            if self.cancel_signal:  # the signal reached bps submit too
                raise Cancelled(self.cancel_signal)
            raise RunnerError(f"bps submit failed (exit {done.returncode}); see the job log")
        self.run_id = m.group(1)
        return self.run_id

    def cancel(self) -> None:
        if self.run_id is None:
            return
        self.log.batch(f"bps cancel --id {self.run_id}")
        done = self.bps_command("cancel", "--id", self.run_id)
        self.log.write(done.stdout)


def write_progress(jobdir: str, labels: list[dict], failed: list[dict]) -> None:
    write_json_atomic(
        os.path.join(jobdir, PIPELINE_PROGRESS_JSON), {"labels": labels, "failures": failed}
    )
    write_json_atomic(
        os.path.join(jobdir, PROGRESS_JSON),
        {
            "total": sum(entry["quanta"] for entry in labels),
            "done": sum(entry["succeeded"] for entry in labels),
            # as the local runner counts: the blocked quanta will not run either
            "failed": sum(entry["failed"] + entry["blocked"] for entry in labels),
        },
    )


def failure_sentence(labels: list[dict], failed: list[dict]) -> str:
    """What the job's message says when quanta failed (the local runner's wording)."""
    total = sum(entry["quanta"] for entry in labels)
    text = f"{sum(entry['failed'] for entry in labels)} of {total} quanta failed"
    if failed:
        first = failed[0]
        data_id = ", ".join(f"{k}={v!r}" for k, v in first["dataId"].items())
        exception = first["exception"].rsplit(".", 1)[-1]
        text += f"; first: {first['label']} on {data_id}: {exception}: {first['message']}"
    blocked = sum(entry["blocked"] for entry in labels)
    if blocked:
        text += f"; {blocked} quanta downstream were not run"
    return text + f"; {sum(entry['succeeded'] for entry in labels)} succeeded"


def write_error(jobdir: str, ename: str, evalue: str, traceback: str) -> None:
    write_json_atomic(
        os.path.join(jobdir, ERROR_JSON),
        {"ename": ename, "evalue": evalue, "traceback": traceback, "cellId": None},
    )


TERMINAL = {"SUCCEEDED", "FAILED", "DELETED"}


def watch(run: BpsRun, plan: dict, deadline: float):
    """Keep the progress files up to date until the workflow ends; its last report."""
    last = None
    seen = None
    while True:
        if run.cancel_signal:
            raise Cancelled(run.cancel_signal)
        if time.monotonic() > deadline:
            raise TimeoutError
        try:
            last = report(run.submit_path) or last
        except Exception as e:  # the DAG files appear a moment after submit
            run.log.batch(f"bps report: {e}")
        ended = last is not None and state_name(last.state) in TERMINAL
        labels = label_progress(plan, last, ended, cluster_quanta(run.submit_path, last)[0])
        key = (repr(labels), ended)
        if key != seen:
            seen = key
            write_progress(run.jobdir, labels, [])
        if ended:
            return last
        time.sleep(POLL_SECONDS)


def output_counts(repo: str, output_run: str) -> list[dict]:
    from lsst.daf.butler import Butler

    out = []
    with Butler.from_config(repo) as butler:
        for dataset_type in sorted(butler.registry.queryDatasetTypes(), key=lambda d: d.name):
            refs = butler.query_datasets(
                dataset_type.name, collections=output_run, explain=False, limit=None
            )
            if refs:
                out.append({"datasetType": dataset_type.name, "count": len(refs)})
    return out


def submitted_graph(submit_path: str) -> dict | None:
    path = os.path.join(submit_path, PIPELINE_GRAPH)
    if not os.path.exists(path):
        return None
    return {"file": path, "sha256": pipeline_plan.sha256_file(path)}


def provenance(jobdir, spec, plan, run: BpsRun, status: str) -> dict:
    with open(spec["pipeline"], encoding="utf-8", errors="replace") as f:
        content = f.read()
    graph = os.path.join(jobdir, PIPELINE_GRAPH)
    try:
        outputs = output_counts(spec["butlerRepo"], plan["outputRun"])
    except Exception as e:
        run.log.batch(f"could not count the outputs: {e}")
        outputs = []
    return {
        "jobId": spec.get("jobId"),
        "status": status,
        "butlerRepo": spec["butlerRepo"],
        "inputCollections": plan["inputCollections"],
        "outputCollection": plan["outputCollection"],
        "outputRun": plan["outputRun"],
        "dataQuery": plan["dataQuery"],
        "labels": spec.get("labels"),
        "configOverrides": spec.get("configOverrides") or [],
        "configFiles": plan.get("configFileContents") or spec.get("configFiles") or [],
        "pipeline": {
            "path": spec["pipeline"],
            "sha256": pipeline_plan.sha256_file(spec["pipeline"]),
            "content": content,
        },
        "expandedPipeline": plan.get("expandedPipeline", ""),
        "graph": {"file": graph, "sha256": pipeline_plan.sha256_file(graph)},
        "versions": pipeline_plan.versions(),
        "outputs": outputs,
        "engine": ENGINE,
        "bps": {
            "submitPath": run.submit_path,
            "runId": run.run_id,
            "config": os.path.join(jobdir, SUBMIT_YAML),
            # what the jobs ran: BPS's copy after `pipetask update-graph-run` (same quanta,
            # data IDs and output run as the planned graph above, new quantum and dataset ids)
            "graph": submitted_graph(run.submit_path),
        },
        "endedAt": now_iso(),
    }


def run_job(jobdir: str, run_file: dict) -> int:
    """Run JOBDIR's pipeline through BPS; the runner's exit code."""
    log = Log()
    write_launch(jobdir)
    env_thread = threading.Thread(target=write_environment, args=(jobdir,), daemon=True)
    env_thread.start()
    bps_run = BpsRun(jobdir, log)

    def on_signal(signum, _frame):
        bps_run.cancel_signal = signal.Signals(signum).name

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    walltime = int(run_file.get("walltimeSeconds") or 0)
    deadline = time.monotonic() + walltime if walltime > 0 else float("inf")
    spec = plan = None
    status, code, reason, message = "failed", EXIT_RUNNER_ERROR, "runner_error", None
    try:
        spec = pipeline_plan.load_spec(jobdir)
        plan = read_json_object(jobdir, PIPELINE_PLAN_JSON)
        config = bps_config(jobdir, spec, plan, run_file, os.path.dirname(sys.executable))
        write_progress(jobdir, label_progress(plan, None, False), [])
        started = time.monotonic()
        bps_run.submit(write_config(jobdir, config))
        if bps_run.cancel_signal:
            raise Cancelled(bps_run.cancel_signal)
        final = watch(bps_run, plan, deadline)
        clustered, clustered_failures = cluster_quanta(bps_run.submit_path, final)
        labels = label_progress(plan, final, True, clustered)
        # BPS names jobs by the quantum ids of its copy of the graph (update-graph-run gives
        # the quanta new ids), so the data IDs come from that copy
        submitted_graph = os.path.join(bps_run.submit_path, PIPELINE_GRAPH)
        failed = (
            failures(bps_run.submit_path, plan, final, quantum_data_ids(submitted_graph))
            + clustered_failures
        )
        write_progress(jobdir, labels, failed)
        summary = {state_name(k): v for k, v in (final.job_state_counts or {}).items() if v}
        log.batch(
            f"BPS run {bps_run.run_id} ended {state_name(final.state)} after "
            f"{time.monotonic() - started:.1f} s: {summary}"
        )
        if any(entry["failed"] for entry in labels):
            status, code, reason = "failed", EXIT_CELL_ERROR, "quanta_failed"
            message = failure_sentence(labels, failed)
            if failed:
                first = failed[0]
                write_error(jobdir, first["exception"], first["message"], first["log"])
        elif state_name(final.state) != "SUCCEEDED":
            message = (
                f"the BPS workflow ended {state_name(final.state)}; see the logs in "
                f"{bps_run.submit_path}/jobs"
            )
            write_error(jobdir, "BpsWorkflowFailed", message, message)
        else:
            status, code, reason = "succeeded", EXIT_OK, "ok"
    except Cancelled as e:
        bps_run.cancel()
        status, code, reason, message = "cancelled", EXIT_CANCELLED, "cancelled", f"{e} received"
    except TimeoutError:
        bps_run.cancel()
        status, code, reason = "failed", EXIT_WALLTIME, "walltime"
        message = f"the walltime of {walltime} s ran out"
    except RunnerError as e:
        message = str(e)
        write_error(jobdir, "RunnerError", message, message)
    if message:
        log.batch(message)
    if spec is not None and plan is not None:
        try:
            write_json_atomic(
                os.path.join(jobdir, PIPELINE_PROVENANCE_JSON),
                provenance(jobdir, spec, plan, bps_run, status),
            )
        except Exception as e:
            log.batch(f"could not write the provenance: {e}")
    env_thread.join(timeout=30)
    write_exit(jobdir, code, reason, message)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m user_batch.pipeline_bps JOBDIR", file=sys.stderr)
        return EXIT_RUNNER_ERROR
    jobdir = os.path.abspath(argv[0])
    try:
        run_file = read_json_object(jobdir, RUN_JSON)
    except RunnerError:
        run_file = {}
    return run_job(jobdir, run_file)


if __name__ == "__main__":
    sys.exit(main())
