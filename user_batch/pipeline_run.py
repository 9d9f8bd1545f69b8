"""Pipeline runner: ``python -m user_batch.pipeline_run JOBDIR``.

Runs the quantum graph the planner built (:mod:`user_batch.pipeline_plan`, ``JOBDIR/pipeline.qg``)
with the middleware's own executor::

    pipetask --log-file=JOBDIR/pipeline-log.json run --butler-config=REPO --input=IN,...
        --output=OUTPUT --output-run=RUN --qgraph=JOBDIR/pipeline.qg --processes=1
        --register-dataset-types --summary=JOBDIR/pipeline-summary.json

One process (``-j 1``): pipetask cannot fork, so ``-j N`` starts a fresh Python for every
quantum (seconds each), far more than the demo's and many real quanta take.
``python -m user_batch.runner JOBDIR`` comes here for a job of kind ``pipeline`` (:func:`run_job`).

Input: ``JOBDIR/pipeline.json`` (PipelineFile, as the planner read it) and the planner's
``pipeline.qg`` and ``pipeline-plan.json``. Files written in JOBDIR (each to a temporary name,
then renamed), as the other runners do:

* ``launch.json``   ``{pid, pgid, startedAt}``, then ``pipetaskPid`` once pipetask runs (it
  stays in the runner's process group, so the proxy's signals reach it);
* ``env.json``      interpreter, installed packages;
* ``pipeline-log.json``  pipetask's JSON log records, one a line (read while it runs);
* ``pipeline-progress.json``  per label quanta/succeeded/failed/blocked, and each failed
  quantum's data ID, exception, message and the end of its log — live from the log records,
  then from pipetask's summary;
* ``progress.json``  ``{total, done, failed}`` over quanta (``failed`` counts the blocked ones
  too: they will not run);
* ``pipeline-summary.json``  pipetask's own ``--summary`` report;
* ``error.json``    ``{ename, evalue, traceback}`` — the first failed quantum (with its log),
  or why pipetask did not run;
* ``pipeline-provenance.json``  repo, collections, run, query, pipeline file and expanded
  pipeline, graph sha256, versions, and the datasets of the output run per dataset type
  (queried from the butler), when the run ended (not on cancel);
* ``exit.json``     ``{exitCode, reason, endedAt, message}`` — last.

Exit codes: 0 ``ok``; 1 ``quanta_failed`` (the others' outputs are in the run); 2
``runner_error`` (no graph, pipetask could not run it); 124 ``walltime``; 143 ``cancelled``
(SIGTERM/SIGINT: pipetask and its processes are stopped).

stdout (the job log) carries pipetask's own output between ``[batch]`` lines.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

from user_batch.jobdir import (
    Log,
    RunnerError,
    read_json_object,
    sha256_file,
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
    LAUNCH_JSON,
    PIPELINE_GRAPH,
    PIPELINE_JSON,
    PIPELINE_LOG_JSON,
    PIPELINE_PLAN_JSON,
    PIPELINE_PROGRESS_JSON,
    PIPELINE_PROVENANCE_JSON,
    PROGRESS_JSON,
)

#: pipetask's --summary report (not in the contract: the runner's own record, read at the end)
PIPELINE_SUMMARY_JSON = "pipeline-summary.json"
#: how often the runner reads new log records and looks at the cancel flag and the walltime
POLL_SECONDS = 0.2
#: the fewest seconds between two writes of the progress files
WRITE_EVERY_SECONDS = 0.5
#: how long pipetask gets after SIGTERM before SIGKILL
STOP_GRACE_SECONDS = 5
#: log records kept per quantum: the end of a failed quantum's log
QUANTUM_LOG_LINES = 30
#: lines of pipetask's own output kept to explain a run that did not start
OUTPUT_TAIL_LINES = 40

# The log records that say how a quantum ended (lsst.pipe.base's executors, pinned versions).
SUCCEEDED = re.compile(
    r"^Execution of task '(?P<label>[^']+)' on quantum (?P<data_id>\{.*?\}) took "
)
FAILED = re.compile(
    r"^Execution of task '(?P<label>[^']+)' on quantum (?P<data_id>\{.*?\}) failed\. "
    r"Exception (?P<exception>[\w.]+): (?P<message>.*)$",
    re.S,
)
BLOCKED = re.compile(r"^Upstream job failed for task \S+ \((?P<label>[^@]+)@(?P<data_id>\{.*?\})\)")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Failure|Interrupt)\b.*?: ")
DATA_ID_ITEM = re.compile(r"(\w+): ('(?:[^'\\]|\\.)*'|-?\d+)")


class Cancelled(Exception):
    """SIGTERM/SIGINT arrived."""


class Walltime(Exception):
    """walltimeSeconds reached."""


def parse_data_id(text: str) -> dict:
    """``{instrument: 'DEMO', detector: 1}`` (a DataCoordinate as the log prints it) as a dict."""
    data_id: dict = {}
    for key, value in DATA_ID_ITEM.findall(text):
        data_id[key] = value[1:-1] if value.startswith("'") else int(value)
    return data_id


def data_id_key(data_id: dict) -> str:
    return json.dumps(data_id, sort_keys=True)


def record_line(record: dict) -> str:
    line = f"{record.get('levelname', '')} {record.get('name', '')}: {record.get('message', '')}"
    if record.get("exc_info"):
        line += "\n" + str(record["exc_info"]).rstrip()
    return line


# --------------------------------------------------------------------------- progress


class Progress:
    """Quanta per label while pipetask runs, from its JSON log records; then from its summary."""

    def __init__(self, labels: list[dict]):
        self.labels = {
            item["label"]: {
                "label": item["label"],
                "quanta": int(item["quanta"]),
                "succeeded": 0,
                "failed": 0,
                "blocked": 0,
            }
            for item in labels
        }
        self.failures: list[dict] = []
        self.logs: dict[tuple[str, str], collections.deque] = {}
        self.changed = True

    def label(self, name: str) -> dict:
        if name not in self.labels:  # a label the plan did not list: count it all the same
            self.labels[name] = {
                "label": name,
                "quanta": 0,
                "succeeded": 0,
                "failed": 0,
                "blocked": 0,
            }
        return self.labels[name]

    def quantum_log(self, label: str, data_id: dict) -> str:
        return "\n".join(self.logs.get((label, data_id_key(data_id)), ()))

    def feed(self, record: dict) -> None:
        message = str(record.get("message") or "")
        mdc_label = str((record.get("MDC") or {}).get("LABEL") or "")
        if mdc_label and ":" in mdc_label:
            label, _, data_id_text = mdc_label.partition(":")
            key = (label, data_id_key(parse_data_id(data_id_text)))
            self.logs.setdefault(key, collections.deque(maxlen=QUANTUM_LOG_LINES)).append(
                record_line(record)
            )
        if m := SUCCEEDED.match(message):
            self.label(m["label"])["succeeded"] += 1
            # a quantum that succeeded needs no log kept
            self.logs.pop((m["label"], data_id_key(parse_data_id(m["data_id"]))), None)
            self.changed = True
        elif m := FAILED.match(message):
            data_id = parse_data_id(m["data_id"])
            self.label(m["label"])["failed"] += 1
            self.failures.append(
                {
                    "label": m["label"],
                    "dataId": data_id,
                    "exception": m["exception"],
                    "message": m["message"].strip(),
                    "log": "",
                }
            )
            self.changed = True
        elif m := BLOCKED.match(message):
            self.label(m["label"])["blocked"] += 1
            self.changed = True

    def fill_logs(self) -> None:
        """Each failure's log: the records of its quantum so far (the traceback comes after the
        record that says it failed)."""
        for failure in self.failures:
            failure["log"] = self.quantum_log(failure["label"], failure["dataId"])

    def from_summary(self, summary: dict) -> None:
        """pipetask's own report at the end: the counts and failures it gives are the ones kept."""
        reports = summary.get("quantaReports")
        if not isinstance(reports, list):
            return
        for item in self.labels.values():
            item.update(succeeded=0, failed=0, blocked=0)
        failures = []
        for report in reports:
            label = self.label(str(report.get("taskLabel")))
            status = report.get("status")
            if status == "success":
                label["succeeded"] += 1
            elif status == "failure":
                label["failed"] += 1
                info = report.get("exceptionInfo") or {}
                data_id = report.get("dataId") or {}
                failures.append(
                    {
                        "label": label["label"],
                        "dataId": data_id,
                        "exception": str(info.get("className") or "unknown"),
                        "message": str(info.get("message") or ""),
                        "log": self.quantum_log(label["label"], data_id),
                    }
                )
            elif status == "skipped":
                label["blocked"] += 1
        self.failures = failures
        self.changed = True

    def counts(self) -> dict:
        items = self.labels.values()
        blocked = sum(i["blocked"] for i in items)
        return {
            "total": sum(i["quanta"] for i in items),
            "done": sum(i["succeeded"] for i in items),
            "failed": sum(i["failed"] for i in items) + blocked,
        }

    def write(self, jobdir: str) -> None:
        self.fill_logs()
        write_json_atomic(
            os.path.join(jobdir, PIPELINE_PROGRESS_JSON),
            {"labels": list(self.labels.values()), "failures": self.failures},
        )
        write_json_atomic(os.path.join(jobdir, PROGRESS_JSON), self.counts())
        self.changed = False


class LogTail:
    """The JSON log records pipetask has appended since the last read (whole lines only)."""

    def __init__(self, path: str):
        self.path = path
        self.offset = 0
        self.partial = b""

    def records(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        found = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(record)
        return found


# --------------------------------------------------------------------------- the job


def pipetask_command() -> list[str]:
    """pipetask from this interpreter's environment (the venv the runner runs in)."""
    here = os.path.join(os.path.dirname(sys.executable), "pipetask")
    found = here if os.path.isfile(here) else shutil.which("pipetask")
    if not found:
        raise RunnerError(
            "pipetask is not installed next to this Python (install the 'pipeline' extra)"
        )
    return [found]


def pipetask_argv(jobdir: str, spec: dict, plan: dict) -> list[str]:
    """``--option=value`` throughout: a collection name may start with "-" and must not be
    read as an option."""
    return [
        *pipetask_command(),
        f"--log-file={os.path.join(jobdir, PIPELINE_LOG_JSON)}",
        "run",
        f"--butler-config={spec['butlerRepo']}",
        f"--input={','.join(spec['inputCollections'])}",
        f"--output={spec['outputCollection']}",
        f"--output-run={plan.get('outputRun') or spec['outputRun']}",
        f"--qgraph={os.path.join(jobdir, PIPELINE_GRAPH)}",
        "--processes=1",
        "--register-dataset-types",
        f"--summary={os.path.join(jobdir, PIPELINE_SUMMARY_JSON)}",
    ]


def load_inputs(jobdir: str) -> tuple[dict, dict]:
    spec = read_json_object(jobdir, PIPELINE_JSON)
    for key in ("butlerRepo", "outputCollection", "outputRun"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise RunnerError(f"{PIPELINE_JSON} needs '{key}' as a string")
    inputs = spec.get("inputCollections")
    if not isinstance(inputs, list) or not inputs or not all(isinstance(c, str) for c in inputs):
        raise RunnerError(f"{PIPELINE_JSON} needs 'inputCollections' as a list of names")
    if not os.path.isfile(os.path.join(jobdir, PIPELINE_GRAPH)):
        raise RunnerError(
            f"The job has no quantum graph ({PIPELINE_GRAPH}): plan the pipeline before running it."
        )
    plan = read_json_object(jobdir, PIPELINE_PLAN_JSON)
    if not isinstance(plan.get("labels"), list):
        raise RunnerError(f"{PIPELINE_PLAN_JSON} has no 'labels'")
    return spec, plan


class Runner:
    def __init__(self, jobdir: str, log: Log):
        self.jobdir = jobdir
        self.log = log
        self.spec: dict = {}
        self.plan: dict = {}
        self.progress = Progress([])
        self.proc: subprocess.Popen | None = None
        self.output_tail: collections.deque = collections.deque(maxlen=OUTPUT_TAIL_LINES)
        self.copier: threading.Thread | None = None
        self.tail: LogTail | None = None
        self.cancel_signal: str | None = None
        self.deadline: float | None = None
        self.summary: dict | None = None
        self.timings: dict = {}
        self.run: dict = {}  # run.json, when the job came through user_batch.runner

    def path(self, name: str) -> str:
        return os.path.join(self.jobdir, name)

    # -- pipetask

    def start(self) -> None:
        for name in (PIPELINE_LOG_JSON, PIPELINE_SUMMARY_JSON):  # a run before this one's
            try:
                os.remove(self.path(name))
            except FileNotFoundError:
                pass
        argv = pipetask_argv(self.jobdir, self.spec, self.plan)
        self.log.batch("running: " + " ".join(argv))
        # same process group as the runner: the proxy's SIGTERM/SIGKILL to the group reaches it
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        launch = read_json_object(self.jobdir, LAUNCH_JSON)
        launch["pipetaskPid"] = self.proc.pid
        write_json_atomic(self.path(LAUNCH_JSON), launch)
        self.copier = threading.Thread(target=self.copy_output, daemon=True)
        self.copier.start()

    def copy_output(self) -> None:
        """pipetask's stdout and stderr into the job log, keeping the last lines."""
        assert self.proc is not None and self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            self.output_tail.append(line.rstrip("\n"))
            self.log.write(line)

    def watch(self) -> int:
        """Follow the log until pipetask ends; returns its exit code."""
        assert self.proc is not None
        self.tail = LogTail(self.path(PIPELINE_LOG_JSON))
        last_write = 0.0
        while True:
            code = self.proc.poll()
            for record in self.tail.records():
                self.progress.feed(record)
            if self.progress.changed and (
                code is not None or time.monotonic() - last_write >= WRITE_EVERY_SECONDS
            ):
                self.progress.write(self.jobdir)
                last_write = time.monotonic()
            if code is not None:
                return code
            self.check_stop()
            time.sleep(POLL_SECONDS)

    def catch_up(self) -> None:
        """The records written since the last look, into the progress files."""
        try:
            for record in self.tail.records():
                self.progress.feed(record)
            self.progress.write(self.jobdir)
        except Exception as e:  # the progress stays as it was; the job's end matters more
            self.log.batch(f"could not update the progress: {type(e).__name__}: {e}")

    def check_stop(self) -> None:
        if self.cancel_signal:
            raise Cancelled(self.cancel_signal)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise Walltime()

    def stop_pipetask(self) -> None:
        """SIGTERM to pipetask and every process under it, SIGKILL to what is left after the grace."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        import psutil

        try:
            tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        except psutil.Error:
            tree = []
        for p in tree:
            try:
                p.terminate()
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(tree, timeout=STOP_GRACE_SECONDS)
        for p in alive:
            try:
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=2)
        proc.poll()
        self.log.batch(
            f"stopped pipetask (pid {proc.pid}) and {max(len(tree) - 1, 0)} process(es) under it"
        )

    def finish_output(self) -> None:
        if self.copier is not None:
            self.copier.join(timeout=5)

    # -- results

    def read_summary(self) -> None:
        try:
            with open(self.path(PIPELINE_SUMMARY_JSON), encoding="utf-8") as f:
                self.summary = json.load(f)
        except (OSError, ValueError):
            self.summary = None
        if isinstance(self.summary, dict):
            self.progress.from_summary(self.summary)
        self.progress.write(self.jobdir)

    def write_error(self, ename: str, evalue: str, traceback: str) -> None:
        write_json_atomic(
            self.path(ERROR_JSON),
            {"ename": ename, "evalue": evalue, "traceback": traceback, "cellId": None},
        )

    def failure_sentence(self) -> str:
        failures = self.progress.failures
        counts = self.progress.counts()
        failed = sum(i["failed"] for i in self.progress.labels.values())
        blocked = sum(i["blocked"] for i in self.progress.labels.values())
        first = failures[0] if failures else None
        where = ""
        if first:
            data_id = ", ".join(f"{k}={v!r}" for k, v in first["dataId"].items())
            exception = first["exception"].rsplit(".", 1)[-1]
            where = f"; first: {first['label']} on {data_id}: {exception}: {first['message']}"
        text = f"{failed} of {counts['total']} quanta failed{where}"
        if blocked:
            text += f"; {blocked} quanta downstream were not run"
        return text + f"; {counts['done']} succeeded"

    def pipetask_error(self, code: int) -> str:
        """Why pipetask ended without running the graph: one sentence, in its words."""
        info = (self.summary or {}).get("exceptionInfo") or {}
        if info.get("message"):
            words = f"{str(info.get('className', 'error')).rsplit('.', 1)[-1]}: {info['message']}"
        else:
            lines = [line.strip() for line in self.output_tail if line.strip()]
            # the last line of a traceback: "ValueError: ..."
            raised = [line for line in lines if EXCEPTION_LINE.match(line)]
            words = (raised or lines or ["it printed nothing"])[-1]
        run = self.plan.get("outputRun") or self.spec["outputRun"]
        if "already exists" in words and run in words:
            return (
                f"The output run {run} already exists (this graph ran before); plan the "
                f"pipeline again for a new output run. pipetask said: {words}"
            )
        return f"pipetask could not run the graph (exit code {code}): {words}"

    def outputs(self) -> list[dict]:
        """Datasets of the output run per dataset type, from the butler."""
        from lsst.daf.butler import Butler

        run = self.plan.get("outputRun") or self.spec["outputRun"]
        found = []
        with Butler.from_config(self.spec["butlerRepo"]) as butler:
            try:
                summary = butler.registry.getCollectionSummary(run)
            except Exception:  # the run was never made (pipetask stopped before)
                return []
            for name in sorted(d.name for d in summary.dataset_types):
                with butler.query() as query:
                    count = query.datasets(name, collections=run, find_first=False).count()
                if count:
                    found.append({"datasetType": name, "count": int(count)})
        return found

    def provenance(self, status: str) -> dict:
        spec, plan = self.spec, self.plan
        graph = self.path(PIPELINE_GRAPH)
        try:
            outputs = self.outputs()
            outputs_error = None
        except Exception as e:
            outputs, outputs_error = [], f"{type(e).__name__}: {e}"
        pipeline_file = plan.get("pipelineFile") or {
            "path": spec.get("pipeline"),
            "sha256": "",
            "content": "",
        }
        record = {
            "jobId": spec.get("jobId"),
            "status": status,
            "engine": "pipetask",
            "butlerRepo": spec["butlerRepo"],
            "inputCollections": spec["inputCollections"],
            "outputCollection": spec["outputCollection"],
            "outputRun": plan.get("outputRun") or spec["outputRun"],
            "dataQuery": spec.get("dataQuery") or "",
            "labels": spec.get("labels"),
            "configOverrides": spec.get("configOverrides") or [],
            "configFiles": plan.get("configFileContents") or spec.get("configFiles") or [],
            "pipeline": pipeline_file,
            "expandedPipeline": plan.get("expandedPipeline", ""),
            "graph": {
                "file": graph,
                "sha256": sha256_file(graph) if os.path.isfile(graph) else "",
                "plannedSha256": plan.get("graphSha256"),
            },
            "versions": plan.get("versions") or {},
            "quanta": list(self.progress.labels.values()),
            "command": pipetask_argv(self.jobdir, spec, plan),
            "outputs": outputs,
            "timings": self.timings,
        }
        if outputs_error:
            record["outputsError"] = outputs_error
        return record


def import_butler() -> None:
    try:
        import lsst.daf.butler  # noqa: F401
    except Exception:  # the provenance says what went wrong when it needs it
        pass


def run(runner: Runner, started: float) -> tuple[int, str, str]:
    log = runner.log
    spec, plan = runner.spec, runner.plan = load_inputs(runner.jobdir)
    walltime = spec.get("walltimeSeconds") or runner.run.get("walltimeSeconds")
    if isinstance(walltime, (int, float)) and walltime > 0:
        runner.deadline = started + walltime
    runner.progress = Progress(plan["labels"])
    runner.progress.write(runner.jobdir)
    counts = ", ".join(f"{i['label']}: {i['quanta']}" for i in plan["labels"])
    log.batch(
        f"job {spec.get('jobId')}: {plan.get('totalQuanta', '?')} quanta ({counts}) into "
        f"{plan.get('outputRun') or spec['outputRun']}"
    )
    runner.check_stop()
    t = time.monotonic()
    runner.start()
    # the butler is needed at the end (the provenance's outputs): import it while pipetask runs
    threading.Thread(target=import_butler, daemon=True).start()
    code = runner.watch()
    runner.finish_output()
    runner.timings["pipetaskSeconds"] = round(time.monotonic() - t, 3)
    if code == -signal.SIGTERM or code == -signal.SIGINT:
        # the proxy signals the whole group: pipetask may end before our handler ran
        raise Cancelled(runner.cancel_signal or signal.Signals(-code).name)
    runner.read_summary()
    counts = runner.progress.counts()
    if code == 0:
        return EXIT_OK, "ok", f"{counts['done']} quanta succeeded"
    if runner.progress.failures:
        message = runner.failure_sentence()
        first = runner.progress.failures[0]
        runner.write_error(first["exception"].rsplit(".", 1)[-1], message, first["log"])
        return EXIT_CELL_ERROR, "quanta_failed", message
    tail = "\n".join(runner.output_tail)
    raise RunnerError(f"{runner.pipetask_error(code)}\n\npipetask's last lines:\n{tail}")


def main(argv: list[str] | None = None, run_file: dict | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m user_batch.pipeline_run JOBDIR", file=sys.stderr)
        return EXIT_RUNNER_ERROR
    started = time.monotonic()
    jobdir = os.path.abspath(argv[0])
    if not os.path.isdir(jobdir):
        print(f"[batch] runner error: job directory {jobdir} does not exist", file=sys.stderr)
        return EXIT_RUNNER_ERROR
    write_launch(jobdir)
    log = Log()
    runner = Runner(jobdir, log)
    runner.run = run_file or {}

    def on_signal(signum, _frame):
        # only a flag: the watch loop stops pipetask
        runner.cancel_signal = signal.Signals(signum).name

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    env_thread = threading.Thread(target=write_environment, args=(jobdir,), daemon=True)
    env_thread.start()
    status = "runner_error"
    try:
        code, status, message = run(runner, started)
    except Cancelled as e:
        log.batch(f"received {e}: cancelling")
        runner.stop_pipetask()
        code, status, message = EXIT_CANCELLED, "cancelled", "the job was cancelled"
    except Walltime:
        runner.stop_pipetask()
        walltime = runner.spec.get("walltimeSeconds") or runner.run.get("walltimeSeconds")
        message = f"The job reached its walltime of {walltime} s and was stopped."
        runner.write_error("WalltimeExceeded", message, message)
        code, status = EXIT_WALLTIME, "walltime"
    except RunnerError as e:
        # the first line is the sentence; what follows (pipetask's last lines) is in error.json
        message = str(e).split("\n", 1)[0]
        log.batch(f"runner error: {message}")
        runner.write_error("RunnerError", message, str(e))
        code = EXIT_RUNNER_ERROR
    except BaseException as e:  # last resort: still leave exit.json behind
        import traceback

        message = f"{type(e).__name__}: {e}"
        log.batch(f"runner error: {message}")
        log.write(traceback.format_exc())
        runner.write_error("RunnerError", message, traceback.format_exc())
        code, status = EXIT_RUNNER_ERROR, "runner_error"
    finally:
        runner.stop_pipetask()
        runner.finish_output()
    if status in ("cancelled", "walltime") and runner.tail is not None:
        runner.catch_up()  # the progress as far as pipetask got
    if status != "cancelled" and runner.plan:  # on cancel the proxy's grace period is short
        try:
            t = time.monotonic()
            record = runner.provenance(status)
            runner.timings["provenanceSeconds"] = round(time.monotonic() - t, 3)
            runner.timings["totalSeconds"] = round(time.monotonic() - started, 3)
            write_json_atomic(runner.path(PIPELINE_PROVENANCE_JSON), record)
        except Exception as e:
            log.batch(f"could not write the provenance: {type(e).__name__}: {e}")
    env_thread.join(timeout=30)
    log.batch(f"exit {code} ({status}): {message.splitlines()[0] if message else ''}")
    write_exit(jobdir, code, status, message)
    return code


def run_job(jobdir: str, run: dict) -> int:
    """A pipeline job from ``python -m user_batch.runner`` (every backend's entry point); its
    run.json's walltime applies when pipeline.json gives none. ``"engine": "bps"`` in
    pipeline.json (the htcondor backend) hands the graph to BPS instead
    (:mod:`user_batch.pipeline_bps`)."""
    try:
        engine = read_json_object(os.path.abspath(jobdir), PIPELINE_JSON).get("engine")
    except RunnerError:
        engine = None  # main() says what is wrong with pipeline.json
    if engine == "bps":
        from user_batch import pipeline_bps

        return pipeline_bps.run_job(os.path.abspath(jobdir), run)
    return main([jobdir], run)


if __name__ == "__main__":
    sys.exit(main())
