#!/usr/bin/env python3
"""Submit-to-running latency and submit throughput: User Batch's proxy (local backend) against
(a) running the same notebook directly with nbclient and (b) jupyter-scheduler's create-job API.

Run through bench/run.sh, which sets up the venvs. Stdlib only; run it with the project venv's
Python. All three paths execute the same trivial notebook in one run, interleaved, and the
results (medians, min/max, ratios) go to bench/RESULTS.md and bench/results.json.

"Running" means: the notebook's first cell is executing. That cell writes time.time() into
bench_start.json in the kernel's working directory, which is a per-job folder on every path
(ours: ROOT/batch-jobs/<id>/, jupyter-scheduler: its staging folder for the job, direct: a folder
the harness makes). Latency = that timestamp - the harness's time.time() just before it sent
the request (or spawned the process). Everything runs on this one machine, so the clocks agree.

Environment (all optional):
  BENCH_N        latency samples per path, one job at a time      (default 10)
  BENCH_K        jobs per throughput burst, submitted back-to-back (default 10)
  BENCH_BURSTS   throughput bursts per path                       (default 2)
  BENCH_WARMUP   unmeasured warm-up jobs per path                 (default 1)
  BENCH_PATHS    comma list from direct,ours,scheduler            (default all three)
  BENCH_POLL     seconds between status polls                     (default 0.1)
  BENCH_JOB_TIMEOUT  seconds before a job counts as hung          (default 180)
  BENCH_PYTHON   interpreter for direct jobs and the proxy's runner (default REPO/.venv/bin/python)
  BENCH_SCHED_VENV  venv with jupyter-scheduler                   (default bench/.venv-scheduler)
  BENCH_QUIET_WAIT  wait up to this many seconds for other work on the machine to drop below
                 half a core before starting (0: don't wait)      (default 60)
  BENCH_DIRECT_TRANSPORT  "ipc": direct jobs use Unix sockets like our runner (default: TCP)
  BENCH_OUT      report path                                      (default bench/RESULTS.md)
  BENCH_COMMAND  the command line to print in the report          (default "bench/run.sh")
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

N = int(os.environ.get("BENCH_N", "10"))
K = int(os.environ.get("BENCH_K", "10"))
BURSTS = int(os.environ.get("BENCH_BURSTS", "2"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "1"))
PATHS = [
    p.strip()
    for p in os.environ.get("BENCH_PATHS", "direct,ours,scheduler").split(",")
    if p.strip()
]
POLL = float(os.environ.get("BENCH_POLL", "0.1"))
JOB_TIMEOUT = float(os.environ.get("BENCH_JOB_TIMEOUT", "180"))
PY = os.environ.get("BENCH_PYTHON", str(REPO / ".venv" / "bin" / "python"))
SCHED_VENV = Path(os.environ.get("BENCH_SCHED_VENV", str(HERE / ".venv-scheduler")))
QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "60"))
OUT = Path(os.environ.get("BENCH_OUT", str(HERE / "RESULTS.md")))
OTHER_BENCHMARKS = "<!-- Other benchmarks: bench.py keeps everything from this line on. -->"
COMMAND = os.environ.get("BENCH_COMMAND", "bench/run.sh")
PROXY_JS = REPO / "server-proxy" / "dist" / "server.js"

LABELS = {
    "direct": "direct (python + nbclient, new kernel)",
    "ours": "User Batch proxy, local backend",
    "scheduler": "jupyter-scheduler create-job API",
}

FIRST_CELL = """\
import time
_bench_t0 = time.time()
import json, os, sys
with open("bench_start.json.tmp", "w") as _f:
    json.dump({"t": _bench_t0, "cwd": os.getcwd(), "pid": os.getpid(), "python": sys.executable}, _f)
os.replace("bench_start.json.tmp", "bench_start.json")"""
SECOND_CELL = 'print("hello from the benchmark notebook")'


def trivial_notebook() -> dict:
    def cell(cid: str, src: str) -> dict:
        return {
            "cell_type": "code",
            "id": cid,
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": src,
        }

    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
        "cells": [cell("first", FIRST_CELL), cell("second", SECOND_CELL)],
    }


# ----------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(
    method: str,
    url: str,
    body: dict | None = None,
    headers: dict | None = None,
    timeout: float = 60,
) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def wait_http(
    url: str, headers: dict, proc: subprocess.Popen, what: str, timeout: float = 60
) -> None:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before it answered")
        try:
            status, _ = http("GET", url, headers=headers, timeout=5)
            if status == 200:
                return
            last = status
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            last = e
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {timeout}s (last: {last})")


def stop_group(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_start(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds (user+sys) used so far by process `root` and its descendants, including the
    ones already reaped (their time is in their parent's cutime/cstime) and zombies."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        f = raw[raw.rindex(")") + 2 :].split()
        procs[int(d)] = (int(f[1]), sum(int(x) for x in f[11:15]))
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in procs:
            total += procs[pid][1]
            stack.extend(children.get(pid, []))
    return total / CLK_TCK


class ForeignLoad(threading.Thread):
    """Samples, once a second, how much CPU processes *outside* this benchmark's process tree use,
    so the report can say how busy the machine was with other work (builds, tests) during the run.
    Short-lived foreign processes that start and end between two samples are missed."""

    def __init__(self, interval: float = 1.0):
        super().__init__(daemon=True)
        self.interval = interval
        self.tick = os.sysconf("SC_CLK_TCK")
        self.samples: list[float] = []  # foreign cores busy, per interval
        self.by_name: dict[str, float] = {}  # foreign CPU seconds by command name
        self._stop_evt = threading.Event()

    @staticmethod
    def _procs() -> dict[int, tuple[int, str, int]]:
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                raw = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            lp, rp = raw.index("("), raw.rindex(")")
            name = raw[lp + 1 : rp]
            f = raw[rp + 2 :].split()
            # fields after the name: state ppid ... utime(12) stime(13)
            out[int(d)] = (int(f[1]), name, int(f[11]) + int(f[12]))
        return out

    def _ours(self, procs: dict) -> set[int]:
        me = os.getpid()
        mine = set()
        for pid in procs:
            p, seen = pid, 0
            while p > 1 and seen < 64:
                if p == me:
                    mine.add(pid)
                    break
                p = procs.get(p, (0,))[0]
                seen += 1
        return mine

    def run(self) -> None:
        prev = self._procs()
        t_prev = time.time()
        while not self._stop_evt.wait(self.interval):
            cur = self._procs()
            t = time.time()
            mine = self._ours(cur)
            busy = 0.0
            for pid, (_, name, ticks) in cur.items():
                if pid in mine or pid == os.getpid():
                    continue
                before = prev.get(pid)
                # utime survives exec (the name may change); a pid not seen before started since
                delta = ticks - before[2] if before else ticks
                if delta > 0:
                    sec = delta / self.tick
                    busy += sec
                    key = name.split("-")[0] if name.startswith("kworker") else name
                    self.by_name[key] = self.by_name.get(key, 0.0) + sec
            self.samples.append(busy / max(t - t_prev, 1e-6))
            prev, t_prev = cur, t

    def stop(self) -> dict:
        self._stop_evt.set()
        self.join(timeout=5)
        if not self.samples:
            return {}
        top = sorted(self.by_name.items(), key=lambda kv: -kv[1])[:5]
        return {
            "mean_cores": statistics.fmean(self.samples),
            "max_cores": max(self.samples),
            "share_of_time_over_half_core": sum(1 for x in self.samples if x > 0.5)
            / len(self.samples),
            "top": [[n, round(v, 1)] for n, v in top],
            "seconds": len(self.samples) * self.interval,
        }


# ----------------------------------------------------------------------------- the three paths


class Direct:
    name = "direct"

    def __init__(self, scratch: Path, nb: dict):
        self.dir = scratch / "direct"
        self.dir.mkdir(parents=True)
        self.nb_path = self.dir / "trivial.ipynb"
        self.nb_path.write_text(json.dumps(nb))
        self.procs: dict[str, subprocess.Popen] = {}
        self.n = 0

    def start(self) -> dict:
        return {"python": PY}

    def submit(self, tag: str) -> dict:
        self.n += 1
        jid = f"{tag}-{self.n}"
        jobdir = self.dir / jid
        jobdir.mkdir()
        logf = open(jobdir / "output.log", "wb")
        t_submit = time.time()
        p = subprocess.Popen(
            [PY, str(HERE / "direct_run.py"), str(self.nb_path), "out.ipynb"],
            cwd=jobdir,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        t_ack = time.time()
        logf.close()
        self.procs[jid] = p
        return {
            "id": jid,
            "t_submit": t_submit,
            "t_ack": t_ack,
            "start_file": str(jobdir / "bench_start.json"),
            "log": str(jobdir / "output.log"),
        }

    @staticmethod
    def failure(j: dict) -> str:
        """The exception lines of the job's log (first and last), e.g. the ZMQError behind a
        "Kernel didn't respond" -- not the atexit noise that follows it."""
        try:
            text = Path(j["log"]).read_text(errors="replace")
        except OSError:
            return "(no log)"
        exc = [
            ln.strip()
            for ln in text.splitlines()
            if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt): ", ln.strip())
        ]
        exc = [e for e in exc if not e.startswith("AssertionError")] or exc
        if not exc:
            lines = [ln for ln in text.splitlines() if ln.strip()]
            return lines[-1] if lines else "(empty log)"
        return exc[0] if len(exc) == 1 else f"{exc[0]} → {exc[-1]}"

    def cpu(self) -> float:
        # direct jobs are the harness's only children that get reaped (the servers live on)
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (
            ru.ru_utime
            + ru.ru_stime
            + sum(tree_cpu(p.pid) for p in self.procs.values() if p.returncode is None)
        )

    def states(self, ids: list[str]) -> dict[str, tuple[bool, bool]]:
        out = {}
        for jid in ids:
            rc = self.procs[jid].poll()
            out[jid] = (rc is not None, rc == 0)
        return out

    def stop(self) -> None:
        for p in self.procs.values():
            stop_group(p)


class Ours:
    name = "ours"

    def __init__(self, scratch: Path, nb: dict):
        self.dir = scratch / "ours"
        self.root = self.dir / "root"
        self.data = self.dir / "data"
        self.root.mkdir(parents=True)
        self.data.mkdir(parents=True)
        self.nb = nb
        (self.root / "trivial.ipynb").write_text(json.dumps(nb))
        self.quota = self.dir / "quotas.yaml"
        self.quota.write_text(
            "windowHours: 24\n"
            "default: { concurrentJobs: 1000, concurrentCores: 1000, coreHours: 1000000, memoryPerJobMiB: 65536 }\n"
        )
        self.secret = secrets.token_hex(16)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.headers = {"X-User-Batch-Secret": self.secret}
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "proxy.log"
        self.n = 0

    def start(self) -> dict:
        if not PROXY_JS.exists():
            raise RuntimeError(f"{PROXY_JS} is missing (the proxy is not built)")
        env = dict(os.environ)
        env.update(
            {
                "USER_BATCH_PORT": str(self.port),
                "USER_BATCH_HOST": "127.0.0.1",
                "USER_BATCH_DATA_DIR": str(self.data),
                "USER_BATCH_ROOT_DIR": str(self.root),
                "USER_BATCH_PYTHON": PY,
                "USER_BATCH_QUOTA_FILE": str(self.quota),
                "USER_BATCH_SECRET": self.secret,
                "USER_BATCH_AUTH": "personal",
                "USER_BATCH_USER": "bench",
                # the runner is `python -m user_batch.runner`: make the package importable even when
                # the project is not pip-installed into the venv.
                "PYTHONPATH": os.pathsep.join(
                    p for p in [str(REPO), env.get("PYTHONPATH", "")] if p
                ),
            }
        )
        logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            ["node", str(PROXY_JS)],
            cwd=self.root,
            env=env,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()
        wait_http(self.base + "/api/health", {}, self.proc, "the proxy")
        _, health = http("GET", self.base + "/api/health")
        return {
            "proxy_version": (health or {}).get("version") if isinstance(health, dict) else None
        }

    def submit(self, tag: str) -> dict:
        self.n += 1
        body = {
            "name": f"bench {tag} {self.n}",
            "kind": "notebook",
            "source": {
                "notebookPath": "trivial.ipynb",
                "kernelName": "python3",
                "notebook": self.nb,
            },
            "resources": {"cpus": 1, "memoryMiB": 1024, "walltimeSeconds": 600},
            "backend": "local",
            "account": "bench",
        }
        t_submit = time.time()
        status, job = http("POST", self.base + "/api/jobs", body, self.headers)
        t_ack = time.time()
        if status not in (200, 201) or not isinstance(job, dict):
            raise RuntimeError(f"POST /api/jobs -> {status}: {job}")
        return {
            "id": job["id"],
            "t_submit": t_submit,
            "t_ack": t_ack,
            "start_file": str(self.root / job["outputDir"] / "bench_start.json"),
            "log": str(self.data / "jobs" / job["id"] / "output.log"),
            "jobdir": str(self.data / "jobs" / job["id"]),
        }

    @staticmethod
    def breakdown(j: dict) -> None:
        """Where ours spends the time: runner process up (launch.json startedAt), env.json written."""
        jobdir = Path(j["jobdir"])
        launch = read_start(jobdir / "launch.json") or {}
        try:
            t = dt.datetime.fromisoformat(launch["startedAt"].replace("Z", "+00:00")).timestamp()
            j["runner_up_s"] = t - j["t_submit"]
        except (KeyError, ValueError, AttributeError):
            j["runner_up_s"] = None
        try:
            j["env_written_s"] = (jobdir / "env.json").stat().st_mtime - j["t_submit"]
        except OSError:
            j["env_written_s"] = None

    def cpu(self) -> float:
        return tree_cpu(self.proc.pid)

    def failure(self, j: dict) -> str:
        _, job = http("GET", f"{self.base}/api/jobs/{j['id']}", headers=self.headers)
        if not isinstance(job, dict):
            return str(job)[:300]
        err = job.get("error") or {}
        reason = job.get("stateReason") or ""
        text = f"state {job.get('state')}: {reason} {err.get('ename', '')} {err.get('evalue', '')}"
        return text[:300]

    def states(self, ids: list[str]) -> dict[str, tuple[bool, bool]]:
        status, body = http("GET", self.base + "/api/jobs", headers=self.headers)
        if status != 200 or not isinstance(body, dict):
            return {}
        by_id = {j["id"]: j["state"] for j in body.get("jobs", [])}
        final = {"succeeded", "failed", "cancelled", "lost"}
        return {i: (by_id.get(i) in final, by_id.get(i) == "succeeded") for i in ids if i in by_id}

    def stop(self) -> None:
        stop_group(self.proc)


class Scheduler:
    name = "scheduler"

    def __init__(self, scratch: Path, nb: dict):
        self.dir = scratch / "scheduler"
        self.root = self.dir / "root"
        self.jdata = self.dir / "jupyter-data"
        for d in (self.root, self.jdata, self.dir / "jupyter-config", self.dir / "jupyter-runtime"):
            d.mkdir(parents=True)
        (self.root / "trivial.ipynb").write_text(json.dumps(nb))
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"token {self.token}"}
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "server.log"
        self.env_name = None
        self.n = 0

    def start(self) -> dict:
        exe = SCHED_VENV / "bin" / "jupyter-server"
        if not exe.exists():
            raise RuntimeError(f"{exe} is missing (the jupyter-scheduler venv is not set up)")
        env = dict(os.environ)
        env.update(
            {
                "JUPYTER_DATA_DIR": str(self.jdata),  # holds scheduler.sqlite and the staging area
                "JUPYTER_CONFIG_DIR": str(self.dir / "jupyter-config"),
                "JUPYTER_RUNTIME_DIR": str(self.dir / "jupyter-runtime"),
                "PATH": str(SCHED_VENV / "bin") + os.pathsep + env.get("PATH", ""),
                "VIRTUAL_ENV": str(SCHED_VENV),
            }
        )
        env.pop("PYTHONPATH", None)
        logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [
                str(exe),
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--ServerApp.port_retries=0",
                f"--ServerApp.root_dir={self.root}",
                f"--IdentityProvider.token={self.token}",
            ]
            + (["--allow-root"] if os.geteuid() == 0 else []),
            cwd=self.root,
            env=env,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()
        wait_http(
            self.base + "/scheduler/runtime_environments",
            self.headers,
            self.proc,
            "jupyter server",
            90,
        )
        _, envs = http("GET", self.base + "/scheduler/runtime_environments", headers=self.headers)
        self.env_name = envs[0]["name"]
        return {"runtime_environment": self.env_name}

    def submit(self, tag: str) -> dict:
        self.n += 1
        body = {
            "name": f"bench-{tag}-{self.n}",
            "input_uri": "trivial.ipynb",
            "runtime_environment_name": self.env_name,
            "output_formats": ["ipynb"],
        }
        t_submit = time.time()
        status, resp = http("POST", self.base + "/scheduler/jobs", body, self.headers)
        t_ack = time.time()
        if status != 200 or not isinstance(resp, dict):
            raise RuntimeError(f"POST /scheduler/jobs -> {status}: {resp}")
        jid = resp["job_id"]
        return {
            "id": jid,
            "t_submit": t_submit,
            "t_ack": t_ack,
            "start_file": str(self.jdata / "scheduler_staging_area" / jid / "bench_start.json"),
            "log": str(self.log),
        }

    def cpu(self) -> float:
        return tree_cpu(self.proc.pid)

    def failure(self, j: dict) -> str:
        _, job = http("GET", f"{self.base}/scheduler/jobs/{j['id']}", headers=self.headers)
        if not isinstance(job, dict):
            return str(job)[:300]
        return f"status {job.get('status')}: {job.get('status_message') or ''}"[:300]

    def states(self, ids: list[str]) -> dict[str, tuple[bool, bool]]:
        status, body = http(
            "GET", self.base + "/scheduler/jobs?max_items=10000", headers=self.headers
        )
        if status != 200 or not isinstance(body, dict):
            return {}
        by_id = {j["job_id"]: j["status"] for j in body.get("jobs", [])}
        # A new job's row says STOPPED until its process flips it to IN_PROGRESS (orm default), so
        # STOPPED is not final here; nothing in the benchmark stops a job.
        final = {"COMPLETED", "FAILED"}
        return {i: (by_id.get(i) in final, by_id.get(i) == "COMPLETED") for i in ids if i in by_id}

    def stop(self) -> None:
        stop_group(self.proc)


# ----------------------------------------------------------------------------- measuring


def wait_done(path, jobs: list[dict]) -> None:
    """Poll every POLL s until every job is final; stamps t_done (at observation), ok, t_first."""
    pending = {j["id"]: j for j in jobs}
    deadline = time.time() + JOB_TIMEOUT
    while pending and time.time() < deadline:
        try:
            st = path.states(list(pending))
        except (urllib.error.URLError, OSError):
            st = {}
        now = time.time()
        for jid, (final, ok) in st.items():
            if final:
                j = pending.pop(jid)
                j["t_done"], j["ok"] = now, ok
        if pending:
            time.sleep(POLL)
    for j in pending.values():
        j["t_done"], j["ok"], j["timeout"] = None, False, True
    for j in jobs:
        start = read_start(Path(j["start_file"]))
        j["t_first"] = start["t"] if start else None
        j["kernel_python"] = start.get("python") if start else None
        j["ack_s"] = j["t_ack"] - j["t_submit"]
        j["first_s"] = (j["t_first"] - j["t_submit"]) if j["t_first"] else None
        j["done_s"] = (j["t_done"] - j["t_submit"]) if j["t_done"] else None
        if hasattr(path, "breakdown"):
            path.breakdown(j)
        if not j["ok"]:
            try:
                j["failure"] = "timed out in the harness" if j.get("timeout") else path.failure(j)
            except Exception as e:  # noqa: BLE001
                j["failure"] = f"(could not ask: {e})"
            log(f"  {path.name} job {j['id']} did not succeed: {j['failure']}")


def settle(seconds: float = 1.5) -> None:
    time.sleep(seconds)


def stats(values: list[float]) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "n": len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def versions(python: str, names: list[str]) -> dict:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {'python': sys.version.split()[0]}\n"
        f"for n in {names!r}:\n"
        "    try: out[n] = m.version(n)\n"
        "    except Exception: out[n] = None\n"
        "print(json.dumps(out))"
    )
    try:
        return json.loads(
            subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60).stdout
        )
    except Exception as e:  # noqa: BLE001 - report, don't fail the benchmark
        return {"error": str(e)}


def machine_facts() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"') + f" (kernel {platform.release()})"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "os": os_name,
        "node": node,
        "commit": commit,
        "loadavg_at_start": os.getloadavg(),
    }


# ----------------------------------------------------------------------------- history

HISTORY = HERE / "history.jsonl"


def history_row(res: dict) -> dict:
    """One line per full run, so the report can show how much the ratios move between runs."""

    def med(table, p, key):
        x = res.get(table, {}).get(p, {}).get(key)
        return x["median"] if x else None

    def r(a, b):
        return round(a / b, 3) if a and b else None

    pr = res.get("paired_ratios", {})
    fl = res.get("foreign_load") or {}
    return {
        "date": res["date"],
        "commit": res["machine"].get("commit"),
        "params": res["params"],
        "other_load_cores": round(fl["mean_cores"], 2) if fl else None,
        "first_ms": {
            p: med("latency", p, "first_s") and round(med("latency", p, "first_s") * 1000)
            for p in ("direct", "ours", "scheduler")
        },
        "first_ours_direct": r(
            med("latency", "ours", "first_s"), med("latency", "direct", "first_s")
        ),
        "first_ours_scheduler": r(
            med("latency", "ours", "first_s"), med("latency", "scheduler", "first_s")
        ),
        "first_paired_direct": (pr.get("direct:first_s") or {}).get("median"),
        "first_paired_scheduler": (pr.get("scheduler:first_s") or {}).get("median"),
        "cpu_ours_direct": r(med("latency", "ours", "cpu_s"), med("latency", "direct", "cpu_s")),
        "cpu_ours_scheduler": r(
            med("latency", "ours", "cpu_s"), med("latency", "scheduler", "cpu_s")
        ),
        "accept_ours_scheduler": r(
            med("throughput", "ours", "accept_rate"), med("throughput", "scheduler", "accept_rate")
        ),
        "makespan_ours_direct": r(
            med("throughput", "ours", "makespan_s"), med("throughput", "direct", "makespan_s")
        ),
        "makespan_ours_scheduler": r(
            med("throughput", "ours", "makespan_s"), med("throughput", "scheduler", "makespan_s")
        ),
        "failed": {
            p: sum(1 for j in res["samples"]["latency"].get(p, []) if not j.get("ok"))
            + sum(
                1
                for b in res["samples"]["throughput"].get(p, [])
                for j in b["jobs"]
                if not j.get("ok")
            )
            for p in res.get("paths", {})
        },
    }


def read_history() -> list[dict]:
    try:
        return [json.loads(ln) for ln in HISTORY.read_text().splitlines() if ln.strip()]
    except (OSError, ValueError):
        return []


# ----------------------------------------------------------------------------- report


def ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1000:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    return "—" if not a or not b else f"{a / b:.2f}×"


def write_report(res: dict) -> None:
    P = [p for p in PATHS if p in res["paths"]]
    lat = res["latency"]
    thr = res["throughput"]
    L = []
    L.append("# Benchmark: submit-to-running latency and submit throughput\n")
    L.append(
        f"Produced by `{res['command']}` on {res['date']} (one run, {res['duration_s']:.0f} s wall). "
        f"Raw samples: [results.json](results.json). Harness: [bench.py](bench.py), "
        f"[direct_run.py](direct_run.py), [run.sh](run.sh).\n"
    )
    L.append(
        "Same trivial two-cell notebook on every path: the first cell writes `time.time()` to a file in "
        'the job\'s working directory ("running" = that cell executing), the second prints a line. '
        "Latency = first-cell timestamp − the harness's clock just before it sent the request "
        "(or spawned the process). Paths:\n"
    )
    L.append(
        "- **direct** — baseline (a): `python bench/direct_run.py` spawned as a new process: starts "
        "the interpreter, imports nbclient, starts a new kernel, runs the notebook, writes it. "
        "This is the raw work the local backend wraps."
    )
    L.append(
        "- **ours** — `POST /api/jobs` (kind `notebook`, notebook JSON inline) to a standalone "
        "`node server-proxy/dist/server.js` on 127.0.0.1 (secret header, personal auth, generous "
        "quota file), local backend: the proxy validates, reserves quota, writes the job dir and "
        "starts `python -m user_batch.runner JOBDIR` detached."
    )
    L.append(
        "- **scheduler** — baseline (b): `POST /scheduler/jobs` (`input_uri` staged under the "
        'server root, `output_formats: ["ipynb"]`) to a `jupyter server` with jupyter-scheduler '
        "(own venv, bench/.venv-scheduler; token auth on 127.0.0.1): it copies the input to its "
        "staging area, records the job in SQLite and starts a `multiprocessing` *spawn* process that "
        "runs nbconvert's ExecutePreprocessor.\n"
    )

    def med0(p, key, table):
        x = table.get(p, {}).get(key)
        return x["median"] if x else None

    L.append("## Headline\n")
    fo, fd, fs = (med0(p, "first_s", lat) for p in ("ours", "direct", "scheduler"))
    pr0 = res.get("paired_ratios", {})
    if fo:
        line = f"- Submit → first cell running, one job at a time (median): **ours {ms(fo)} ms**"
        if fd:
            pd_ = pr0.get("direct:first_s")
            line += (
                f", direct {ms(fd)} ms (ours/direct {fo / fd:.2f}×, {(fo - fd) * 1000:+,.0f} ms"
                + (f"; paired {pd_['median']:.2f}×" if pd_ else "")
                + ")"
            )
        if fs:
            ps_ = pr0.get("scheduler:first_s")
            line += (
                f", jupyter-scheduler {ms(fs)} ms (ours/scheduler {fo / fs:.2f}×"
                + (f"; paired {ps_['median']:.2f}×" if ps_ else "")
                + ")"
            )
        L.append(line + ".")
    co, cd, cs = (med0(p, "cpu_s", lat) for p in ("ours", "direct", "scheduler"))
    if co:
        L.append(
            f"- CPU time per job (median): ours {ms(co)} ms"
            + (f", direct {ms(cd)} ms ({co / cd:.2f}×)" if cd else "")
            + (f", jupyter-scheduler {ms(cs)} ms ({co / cs:.2f}×)" if cs else "")
            + "."
        )
    ao, ad, as_ = (med0(p, "accept_rate", thr) for p in ("ours", "direct", "scheduler"))
    mo, md, ms_ = (med0(p, "makespan_s", thr) for p in ("ours", "direct", "scheduler"))
    if ao:
        L.append(
            f"- Burst of {res['params']['K']} back-to-back submits (median of {res['params']['BURSTS']}): ours "
            f"accepts **{ao:.1f} jobs/s**"
            + (f" (jupyter-scheduler {as_:.1f}/s, {ao / as_:.2f}×" if as_ else "")
            + (f"; direct just spawns, {ad:.0f}/s)" if ad else ")")
            + f"; all {res['params']['K']} finished after {ms(mo)} ms"
            + (f" (direct {ms(md)} ms, {mo / md:.2f}×" if md else "")
            + (f"; jupyter-scheduler {ms(ms_)} ms, {mo / ms_:.2f}×)" if ms_ else ")")
            + "."
        )
    nfail = {}
    for p in P:
        js = list(res["samples"]["latency"].get(p, [])) + [
            j for b in res["samples"]["throughput"].get(p, []) for j in b["jobs"]
        ]
        bad = [j for j in js if not j.get("ok")]
        if bad:
            nfail[p] = (len(bad), len(js), bad[0].get("failure", ""))
    if nfail:
        L.append(
            "- Failed jobs: "
            + "; ".join(f"{p} {n} of {tot} (e.g. {why})" for p, (n, tot, why) in nfail.items())
            + " — see [Failed jobs](#failed-jobs)."
        )
    else:
        L.append("- No job failed on any path.")
    fl0 = res.get("foreign_load") or {}
    if fl0:
        L.append(
            f"- Noise: other sessions' builds and tests kept on average {fl0['mean_cores']:.2f} of the "
            f"{res['machine']['nproc']} cores busy during this run; read absolutes with that in mind."
        )
    L.append("")
    if res.get("skipped"):
        L.append("**Paths not measured in this run:**\n")
        for p, why in res["skipped"].items():
            L.append(f"- {p}: {why}")
        L.append("")

    L.append("## Submit-to-running latency (one job at a time)\n")
    L.append(
        f"{res['params']['N']} jobs per path, run sequentially (each finishes before the next is sent), "
        f"interleaved round-robin across paths with the order rotated each round, after "
        f"{res['params']['WARMUP']} unmeasured warm-up job(s) per path. Milliseconds; median (min–max).\n"
    )
    L.append(
        "| path | ok | submit → ack | submit → first cell running | submit → finished (seen by poll) | "
        "CPU time per job |"
    )
    L.append("| --- | --- | --- | --- | --- | --- |")
    for p in P:
        s = lat.get(p, {})

        def cell(key, s=s):
            x = s.get(key)
            return "—" if not x else f"**{ms(x['median'])}** ({ms(x['min'])}–{ms(x['max'])})"

        L.append(
            f"| {LABELS[p]} | {s.get('ok', 0)}/{s.get('n', 0)} | {cell('ack_s')} | {cell('first_s')} | "
            f"{cell('done_s')} | {cell('cpu_s')} |"
        )
    L.append("")

    def med(p, key, table=lat):
        x = table.get(p, {}).get(key)
        return x["median"] if x else None

    o = lat.get("ours", {})
    if o.get("runner_up_s") and o.get("first_s"):
        up, env, first = (
            med("ours", "runner_up_s"),
            med("ours", "env_written_s"),
            med("ours", "first_s"),
        )
        L.append(
            "Where our path spends it (medians of the same sequential jobs, from the runner's own files; "
            "ms since the POST was sent):\n"
        )
        L.append(
            "| POST → ack | → runner process up (`launch.json` startedAt) | → `env.json` written "
            "(package inventory) | → first cell running (kernel start, notebook built) |"
        )
        L.append("| --- | --- | --- | --- |")
        L.append(f"| {ms(med('ours', 'ack_s'))} | {ms(up)} | {ms(env)} | {ms(first)} |")
        L.append("")
        fd_ = med("direct", "first_s")
        if up is not None and env is not None and fd_:
            L.append(
                f"The runner takes the `env.json` package inventory in a thread while the kernel starts "
                f"(it used to do it first): runner up → `env.json` written took {ms(env - up)} ms here, and our "
                f"whole first-cell overhead over direct was {(first - fd_) * 1000:+,.0f} ms. On two busy cores the "
                f"inventory still competes with the kernel start for CPU; see the run history for whether moving "
                f"it off the critical path changed the ratio beyond noise.\n"
            )

    L.append("Ratios of medians (lower is better for ours; < 1× means ours is faster):\n")
    L.append(
        "| metric | ours / direct | ours − direct | paired ours / direct | ours / scheduler | "
        "ours − scheduler | paired ours / scheduler |"
    )
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    pr = res.get("paired_ratios", {})

    def paired(other, key):
        x = pr.get(f"{other}:{key}")
        return "—" if not x else f"{x['median']:.2f}× ({x['min']:.2f}–{x['max']:.2f})"

    for key, name in (
        ("first_s", "submit → first cell running"),
        ("done_s", "submit → finished"),
        ("cpu_s", "CPU time per job"),
    ):
        o, d, s = med("ours", key), med("direct", key), med("scheduler", key)
        L.append(
            f"| {name} | {ratio(o, d)} | {'—' if o is None or d is None else f'{(o - d) * 1000:+,.0f} ms'} | "
            f"{paired('direct', key)} | "
            f"{ratio(o, s)} | {'—' if o is None or s is None else f'{(o - s) * 1000:+,.0f} ms'} | "
            f"{paired('scheduler', key)} |"
        )
    L.append("")
    L.append(
        '"Paired" = median (min–max) over rounds of ours ÷ the other path\'s job in the same round '
        "(run back to back), which cancels slow drifts in background load better than a ratio of medians."
    )
    L.append("")

    L.append("## Submit throughput (burst of K jobs back-to-back)\n")
    L.append(
        f"K = {res['params']['K']} jobs submitted one after another as fast as each acknowledgement "
        f"comes back (spawned, for direct), {res['params']['BURSTS']} burst(s) per path, paths one "
        f'after another with the order rotated per burst. "Accepted/s" = K ÷ time until the last '
        f'acknowledgement; "all finished" = until the last job is seen final. All K kernels then '
        f"compete for {res['machine']['nproc']} cores, so the finish time measures the machine as "
        f"much as the path. Median over bursts (min–max).\n"
    )
    L.append(
        "| path | ok | accepted / s | time to accept all K (ms) | time until all K finished (ms) | "
        "finished jobs / s | median submit → first cell in burst (ms) | CPU time per job (ms) |"
    )
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for p in P:
        s = thr.get(p, {})

        def c(key, fmt, s=s):
            x = s.get(key)
            return "—" if not x else f"**{fmt(x['median'])}** ({fmt(x['min'])}–{fmt(x['max'])})"

        rate = lambda v: f"{v:,.1f}"  # noqa: E731
        L.append(
            f"| {LABELS[p]} | {s.get('ok', 0)}/{s.get('n', 0)} | {c('accept_rate', rate)} | "
            f"{c('accept_s', ms)} | {c('makespan_s', ms)} | {c('finish_rate', lambda v: f'{v:.2f}')} | "
            f"{c('first_median_s', ms)} | {c('cpu_per_job_s', ms)} |"
        )
    L.append("")
    L.append("| metric | ours / direct | ours / scheduler |")
    L.append("| --- | --- | --- |")
    for key, name in (
        ("accept_rate", 'accepted jobs / s (higher is better; direct\'s "accept" is only a spawn)'),
        ("makespan_s", "time until all K finished (lower is better)"),
        ("first_median_s", "median submit → first cell under load (lower is better)"),
        ("cpu_per_job_s", "CPU time per job in a burst (lower is better)"),
    ):
        o, d, s = med("ours", key, thr), med("direct", key, thr), med("scheduler", key, thr)
        L.append(f"| {name} | {ratio(o, d)} | {ratio(o, s)} |")
    L.append("")

    hist = read_history()
    if hist:

        def f(v, suffix="×"):
            return "—" if v is None else f"{v:.2f}{suffix}"

        L.append("## Run to run\n")
        L.append(
            f"The same ratios from every full run recorded in [history.jsonl](history.jsonl) (this run last; "
            f"{len(hist)} run(s)), to show how far they move between runs on this shared machine:\n"
        )
        L.append(
            "| run (UTC) | other load (cores) | first cell ours/direct (paired) | first cell ours/scheduler "
            "(paired) | CPU/job ours/direct | CPU/job ours/scheduler | burst finish ours/direct | "
            "burst finish ours/scheduler | accepted/s ours/scheduler | failed jobs |"
        )
        L.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for h in hist[-12:]:
            failed = (
                ", ".join(f"{p} {n}" for p, n in (h.get("failed") or {}).items() if n) or "none"
            )
            L.append(
                f"| {h['date']} (N={h['params'].get('N')}, K={h['params'].get('K')}) | "
                f"{f(h.get('other_load_cores'), '')} | {f(h.get('first_ours_direct'))} "
                f"({f(h.get('first_paired_direct'))}) | {f(h.get('first_ours_scheduler'))} "
                f"({f(h.get('first_paired_scheduler'))}) | {f(h.get('cpu_ours_direct'))} | "
                f"{f(h.get('cpu_ours_scheduler'))} | {f(h.get('makespan_ours_direct'))} | "
                f"{f(h.get('makespan_ours_scheduler'))} | {f(h.get('accept_ours_scheduler'))} | {failed} |"
            )
        L.append("")

    fails = []
    for p in P:
        for j in res["samples"]["latency"].get(p, []):
            if not j.get("ok"):
                fails.append((p, "sequential", j))
        for b in res["samples"]["throughput"].get(p, []):
            for j in b["jobs"]:
                if not j.get("ok"):
                    fails.append((p, "burst", j))
    L.append("## Failed jobs\n")
    if not fails:
        L.append("None: every job on every path succeeded.\n")
    else:
        L.append(
            "Failed jobs are left out of the latency statistics; a failed job in a burst still counts "
            "toward the burst's finish time (it ended when it was seen failed).\n"
        )
        L.append("| path | phase | job | after (ms) | reason |")
        L.append("| --- | --- | --- | --- | --- |")
        for p, phase, j in fails:
            reason = str(j.get("failure", "")).replace("|", "\\|").replace("\n", " ")
            L.append(f"| {p} | {phase} | `{j['id']}` | {ms(j.get('done_s'))} | {reason} |")
        L.append("")

    m = res["machine"]
    L.append("## Machine and versions\n")
    L.append(
        f"- {m['nproc']} cores ({m['cpu']}), {m['memory']} RAM, {m['os']}; load average (1/5/15 min) "
        f"at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in m.get('loadavg_at_end', ()))}"
    )
    fl = res.get("foreign_load") or {}
    qw = res.get("quiet_wait")
    if qw:
        L.append(
            f"- before starting, the harness waited {qw['waited_s']:.0f} s (limit {QUIET_WAIT:.0f} s) for other "
            f"work to drop below half a core; it was {qw['foreign_cores_at_start']} cores when it started"
        )
    if fl:
        L.append(
            f"- **other work on the machine during the run** (processes outside the benchmark's tree, "
            f"sampled each second): mean {fl['mean_cores']:.2f} cores busy, peak {fl['max_cores']:.2f}, "
            f"over half a core {fl['share_of_time_over_half_core'] * 100:.0f} % of the time; busiest: "
            + ", ".join(f"`{n}` {v:.0f} CPU-s" for n, v in fl["top"])
        )
    L.append(
        f"- Node {m['node']}; repository commit {m['commit']}; proxy version "
        f"{res['paths'].get('ours', {}).get('proxy_version', '—')}"
    )
    pv = res["versions"]["project_venv"]
    sv = res["versions"]["scheduler_venv"]
    L.append(
        f"- project venv (direct + ours, and their kernels): Python {pv.get('python')}, "
        + ", ".join(f"{k} {v}" for k, v in pv.items() if k != "python")
    )
    L.append(
        f"- scheduler venv (jupyter-scheduler and its kernels): Python {sv.get('python')}, "
        + ", ".join(f"{k} {v}" for k, v in sv.items() if k != "python")
    )
    kp = res.get("kernel_pythons", {})
    if kp:
        L.append(
            "- kernel interpreter seen by the first cell: "
            + "; ".join(f"{p}: `{', '.join(v)}`" for p, v in kp.items())
        )
    L.append(
        f"- parameters: N={res['params']['N']}, K={res['params']['K']}, BURSTS={res['params']['BURSTS']}, "
        f"WARMUP={res['params']['WARMUP']}, POLL={res['params']['POLL']} s, "
        f"direct kernel transport {res['params'].get('DIRECT_TRANSPORT', 'tcp')}"
    )
    L.append("")

    L.append("## What the numbers mean (and don't)\n")
    L.append(
        "- Nearly all of the latency on every path is starting a Python interpreter and an ipykernel "
        "(imports dominate). The *difference* to direct is what our path adds (HTTP, validation, "
        "quota reservation, SQLite, writing the job dir, the runner's own imports and bookkeeping); "
        "the ratio to jupyter-scheduler compares two complete submit paths doing the same work."
    )
    L.append(
        '- "Finished" is when the harness\'s poll (every '
        f"{res['params']['POLL']} s) first saw a final state through each path's own API "
        "(direct: process exit), so it carries up to one poll interval of slack and includes each "
        "path's status-update lag; ack and first-cell times have no such slack."
    )
    L.append(
        '- "CPU time per job" = user+system CPU seconds used by the path\'s whole process tree '
        "(direct: the spawned process and its kernel; ours: the proxy, its runners and their kernels; "
        "scheduler: the Jupyter server, its job processes and their kernels) between just before the "
        "submit and 0.5 s after the job was seen finished; it includes serving the harness's status "
        "polls (ours, scheduler). CPU time is much less sensitive to other work on the machine than wall "
        "time, so it is the steadiest comparison of how much work each path does per job."
    )
    L.append(
        "- The acknowledgement means different things: ours returns after the job is stored, quota "
        "reserved and the runner spawned; jupyter-scheduler returns after the DB row, the copy and "
        '`Process.start()`; direct\'s "ack" is just `Popen` returning.'
    )
    L.append(
        "- 2 cores, one run: expect run-to-run noise of roughly ±10–20 % on the absolute numbers; "
        "interleaving the paths in one run keeps the ratios fairer than the absolutes. The machine is "
        'shared with other sessions\' builds and tests (see "other work" above): when that is high, '
        "absolute latencies inflate and min–max widen, and the paired ratios are the most robust "
        "figures. Under a "
        "burst, K kernels share 2 cores, so burst latencies and finish times are dominated by CPU "
        "contention, not by the submit path."
    )
    L.append(
        "- Kernel transport: direct (nbclient defaults) and jupyter-scheduler start kernels on TCP "
        "ports that the parent picks and then releases, so kernels started at the same time by "
        'separate processes can race for a port (the kernel dies with "Address already in use" and '
        "the parent waits out its 60 s startup timeout); our runner uses Unix sockets in a private "
        "directory. If [Failed jobs](#failed-jobs) lists such a failure, that is this race, not noise."
    )
    L.append(
        "- The kernels differ only by venv (same ipykernel version in both; see above). jupyter-scheduler "
        "also renders the output notebook through nbconvert; ours writes the executed notebook and "
        "provenance files."
    )
    L.append("")
    # the other benchmarks' sections (planner, HTCondor arrays, catalog runs) follow a marker
    # line; a new run of this one rewrites only what is above it
    tail = ""
    if OUT.exists() and OTHER_BENCHMARKS in OUT.read_text():
        tail = OUT.read_text()[OUT.read_text().index(OTHER_BENCHMARKS) :]
    OUT.write_text("\n".join(L) + "\n" + ("\n" + tail if tail else ""))


# ----------------------------------------------------------------------------- main


def main() -> int:
    t_run = time.time()
    scratch = HERE / ".scratch" / dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    scratch.mkdir(parents=True)
    nb = trivial_notebook()
    classes = {"direct": Direct, "ours": Ours, "scheduler": Scheduler}
    res: dict = {
        "command": COMMAND,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "params": {
            "N": N,
            "K": K,
            "BURSTS": BURSTS,
            "WARMUP": WARMUP,
            "POLL": POLL,
            "PATHS": PATHS,
            "DIRECT_TRANSPORT": os.environ.get("BENCH_DIRECT_TRANSPORT", "tcp"),
        },
        "machine": machine_facts(),
        "paths": {},
        "skipped": {},
        "latency": {},
        "throughput": {},
        "samples": {"latency": {}, "throughput": {}},
    }
    res["versions"] = {
        "project_venv": versions(
            PY, ["jupyterlab", "jupyter_server", "nbclient", "ipykernel", "jupyter_client"]
        ),
        "scheduler_venv": versions(
            str(SCHED_VENV / "bin" / "python"),
            [
                "jupyter_scheduler",
                "jupyterlab",
                "jupyter_server",
                "nbconvert",
                "nbclient",
                "ipykernel",
                "jupyter_client",
            ],
        ),
    }
    log(f"scratch {scratch}")
    paths = {}
    if QUIET_WAIT > 0:
        probe = ForeignLoad(interval=1.0)
        probe.start()
        t_wait = time.time()
        while time.time() - t_wait < QUIET_WAIT:
            time.sleep(1)
            last = probe.samples[-5:]
            if len(last) == 5 and statistics.fmean(last) < 0.5:
                break
        probe.stop()
        recent = probe.samples[-5:]
        res["quiet_wait"] = {
            "waited_s": round(time.time() - t_wait, 1),
            "foreign_cores_at_start": round(statistics.fmean(recent), 2) if recent else None,
        }
        log(
            f"waited {res['quiet_wait']['waited_s']} s for a quiet machine; other work at start: "
            f"{res['quiet_wait']['foreign_cores_at_start']} cores"
        )
    sampler = ForeignLoad()
    sampler.start()
    try:
        for name in PATHS:
            path = classes[name](scratch, nb)
            try:
                log(f"starting {name}")
                res["paths"][name] = path.start()
                paths[name] = path
            except Exception as e:  # noqa: BLE001 - a missing path is reported, not fatal
                log(f"  {name} not available: {e}")
                res["skipped"][name] = str(e)
                if hasattr(path, "log"):
                    log(tail(Path(path.log)) if isinstance(path.log, Path) else "")
                path.stop()
        active = [p for p in PATHS if p in paths]

        for name in active:
            for w in range(WARMUP):
                log(f"warm-up {name} {w + 1}/{WARMUP}")
                j = paths[name].submit("warmup")
                wait_done(paths[name], [j])
                settle(0.5)

        lat_samples: dict[str, list] = {p: [] for p in active}
        for i in range(N):
            order = active[i % len(active) :] + active[: i % len(active)]
            for name in order:
                c0 = paths[name].cpu()
                j = paths[name].submit("lat")
                wait_done(paths[name], [j])
                settle(0.5)
                j["cpu_s"] = paths[name].cpu() - c0
                lat_samples[name].append(j)
            log(
                f"latency round {i + 1}/{N}: "
                + ", ".join(f"{n} {ms(lat_samples[n][-1]['first_s'])} ms" for n in active)
            )

        thr_samples: dict[str, list] = {p: [] for p in active}
        for b in range(BURSTS):
            order = active[b % len(active) :] + active[: b % len(active)]
            for name in order:
                settle(3)
                path = paths[name]
                jobs = []
                c0 = path.cpu()
                t0 = time.time()
                for _ in range(K):
                    jobs.append(path.submit(f"burst{b}"))
                t_accepted = time.time()
                wait_done(path, jobs)
                settle(0.5)
                cpu_burst = path.cpu() - c0
                done = [j["t_done"] for j in jobs if j["t_done"]]
                firsts = [j["first_s"] for j in jobs if j["first_s"] is not None]
                burst = {
                    "ok": sum(1 for j in jobs if j["ok"]),
                    "k": K,
                    "accept_s": t_accepted - t0,
                    "accept_rate": K / (t_accepted - t0),
                    "makespan_s": (max(done) - t0) if len(done) == K else None,
                    "first_median_s": statistics.median(firsts) if firsts else None,
                    "cpu_per_job_s": cpu_burst / K,
                    "jobs": jobs,
                }
                burst["finish_rate"] = K / burst["makespan_s"] if burst["makespan_s"] else None
                thr_samples[name].append(burst)
                log(
                    f"burst {b + 1}/{BURSTS} {name}: accepted {burst['accept_rate']:.1f}/s, all finished in "
                    f"{ms(burst['makespan_s'])} ms, ok {burst['ok']}/{K}"
                )

        kernel_pythons = {}
        for name in active:
            js = lat_samples[name]
            res["latency"][name] = {
                "n": len(js),
                "ok": sum(1 for j in js if j["ok"]),
                **{
                    k: stats([j.get(k) for j in js if j["ok"]])
                    for k in ("ack_s", "first_s", "done_s", "runner_up_s", "env_written_s", "cpu_s")
                },
            }
            bs = thr_samples[name]
            res["throughput"][name] = {
                "n": len(bs) * K,
                "ok": sum(b["ok"] for b in bs),
                **{
                    k: stats([b[k] for b in bs])
                    for k in (
                        "accept_s",
                        "accept_rate",
                        "makespan_s",
                        "finish_rate",
                        "first_median_s",
                        "cpu_per_job_s",
                    )
                },
            }
            kernel_pythons[name] = sorted(
                {j["kernel_python"] for j in js if j.get("kernel_python")}
            )
            res["samples"]["latency"][name] = js
            res["samples"]["throughput"][name] = bs
        res["kernel_pythons"] = kernel_pythons
        paired = {}
        for other in ("direct", "scheduler"):
            if "ours" in lat_samples and other in lat_samples:
                for key in ("first_s", "done_s", "cpu_s"):
                    rs = [
                        a[key] / b[key]
                        for a, b in zip(lat_samples["ours"], lat_samples[other], strict=False)
                        if a["ok"] and b["ok"] and a.get(key) and b.get(key)
                    ]
                    paired[f"{other}:{key}"] = stats(rs)
        res["paired_ratios"] = paired
    finally:
        for p in paths.values():
            p.stop()
        res["foreign_load"] = sampler.stop()
    res["duration_s"] = time.time() - t_run
    res["machine"]["loadavg_at_end"] = os.getloadavg()
    (OUT.parent / "results.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    if OUT.resolve() == (HERE / "RESULTS.md").resolve() and all(
        p in paths for p in ("direct", "ours", "scheduler")
    ):
        with HISTORY.open("a") as fh:
            fh.write(json.dumps(history_row(json.loads(json.dumps(res, default=str)))) + "\n")
    write_report(res)
    log(f"wrote {OUT} and {OUT.parent / 'results.json'} in {res['duration_s']:.0f} s")
    print(OUT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
