"""Job runner: ``python -m user_batch.runner JOBDIR``.

Reads ``JOBDIR/run.json`` (written by the proxy), builds a notebook from it, executes it in a
real Jupyter kernel with nbclient and records everything the proxy reads back in the job
directory.  The seam is specified in ``docs/contract.md`` ("Job directory — the proxy ⇄ runner
seam"); this module is its single implementation.

Files written in JOBDIR (each to a temporary name, then renamed):

* ``launch.json``   ``{pid, pgid, startedAt}`` — first thing; ``kernelPgid`` added once the
  kernel runs (the kernel has its own session, hence its own process group);
* ``env.json``      interpreter, installed packages, host, platform;
* ``progress.json`` ``{total, done, failed}`` — at start and after each code cell;
* ``error.json``    ``{ename, evalue, traceback, cellId}`` — cell error, walltime, runner error;
* ``exit.json``     ``{exitCode, reason, endedAt}`` — last.

Sweeps (``sweep.json`` in JOBDIR: a list of parameter sets, each over ``parameters``):
``--item N`` runs item N alone (one HTCondor proc) with all of the files above in
``JOBDIR/items/N`` and its outputs in ``outputDir/item-N``; ``--sweep`` runs every item in turn
(the local backend) and keeps JOBDIR's own ``progress.json`` (``items``: one letter per item,
q r d f c) and ``exit.json`` (reason ``items_failed`` with a ``message`` when some item failed).

The executed notebook goes to ``outputDir/<outputNotebook>`` in every outcome where a notebook
could be built (partial when a cell failed, the walltime hit or the job was cancelled).

stdout (the proxy appends it to ``JOBDIR/output.log``) carries ``[cell <id>] started`` as each
code cell starts, then the cell's stream output, text results and plain-text tracebacks as the
kernel sends them. Runner messages are prefixed ``[batch]``.

Exit codes (also ``exitCode`` in exit.json):

====  ==============  ===========================================================
code  reason          meaning
====  ==============  ===========================================================
0     ``ok``          every cell ran
1     ``cell_error``  a cell raised (or the kernel died); execution stopped there
2     ``runner_error`` bad run.json, kernel failed to start, internal failure
124   ``walltime``    ``walltimeSeconds`` reached; kernel process group killed
143   ``cancelled``   SIGTERM/SIGINT received (cancel); kernel shut down
====  ==============  ===========================================================
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import datetime, timezone

EXIT_OK = 0
EXIT_CELL_ERROR = 1
EXIT_RUNNER_ERROR = 2
EXIT_WALLTIME = 124
EXIT_CANCELLED = 143

INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"

#: seconds the kernel gets to react to an interrupt / shutdown request on cancel
CANCEL_GRACE_SECONDS = 2.0


# --------------------------------------------------------------------------- small helpers


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


def item_dir(jobdir: str, item: int) -> str:
    """Where one sweep item's files go: JOBDIR/items/<item>."""
    return os.path.join(jobdir, "items", str(item))


def apply_sweep_item(run: dict, jobdir: str, item: int) -> dict:
    """run.json as seen by one sweep item: its values over the job's parameters, its own output folder."""
    try:
        with open(os.path.join(jobdir, "sweep.json"), encoding="utf-8") as f:
            sweep = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise RunnerError(f"this job has no readable sweep.json ({e})") from None
    if not isinstance(sweep, list) or not 0 <= item < len(sweep) or not isinstance(sweep[item], dict):
        raise RunnerError(f"sweep item {item} does not exist (the sweep has {len(sweep) if isinstance(sweep, list) else 0})")
    return {**run,
            "parameters": {**(run.get("parameters") or {}), **sweep[item]},
            "outputDir": os.path.join(run["outputDir"], f"item-{item}")}


class RunnerError(Exception):
    """A problem with the job itself (not a cell): reported as reason ``runner_error``."""


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


# --------------------------------------------------------------------------- notebook building


def python_literal(value) -> str:
    """A Python literal for a decoded JSON value (never pastes text into code)."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"float({str(value)!r})"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise RunnerError(f"parameter value of type {type(value).__name__} is not JSON data")


def check_parameter_name(name) -> None:
    import keyword

    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise RunnerError(
            f"invalid parameter name {name!r}: parameter names must be Python identifiers "
            "and not keywords"
        )


def parameters_source(parameters: dict) -> str:
    if not isinstance(parameters, dict):
        raise RunnerError("run.json 'parameters' must be an object of name -> value")
    lines = ["# Parameters"]
    for name, value in parameters.items():
        check_parameter_name(name)
        lines.append(f"{name} = {python_literal(value)}")
    return "\n".join(lines)


def _valid_cell_id(cell_id) -> bool:
    import re

    return isinstance(cell_id, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell_id) is not None


def _fresh_id(taken: set) -> str:
    import uuid

    while True:
        new = uuid.uuid4().hex[:8]
        if new not in taken:
            return new


def injected_cell(parameters: dict, taken: set):
    import nbformat

    cell = nbformat.v4.new_code_cell(parameters_source(parameters))
    cell.id = INJECTED_TAG if INJECTED_TAG not in taken else _fresh_id(taken)
    cell.metadata["tags"] = [INJECTED_TAG]
    cell.metadata["user_batch"] = {"role": "parameters"}
    return cell


def build_cells_notebook(run: dict):
    """Kind ``cells``: setup cells, then the injected parameters cell, then main cells."""
    import nbformat

    cells = run.get("cells")
    if not isinstance(cells, list) or not cells:
        raise RunnerError("run.json of kind 'cells' needs a non-empty 'cells' list")
    parameters = run.get("parameters") or {}
    setup, main = [], []
    taken: set = set()
    for i, spec in enumerate(cells):
        if not isinstance(spec, dict) or not isinstance(spec.get("source", ""), str):
            raise RunnerError(f"cell #{i} in run.json is not {{id, role, source}}")
        role = spec.get("role", "main")
        if role not in ("setup", "main"):
            raise RunnerError(f"cell #{i} has role {role!r}; expected 'setup' or 'main'")
        cell = nbformat.v4.new_code_cell(spec.get("source", ""))
        given = spec.get("id")
        meta = {"role": role}
        if _valid_cell_id(given) and given not in taken:
            cell.id = given
        else:
            cell.id = _fresh_id(taken)
            if given is not None:
                meta["sourceCellId"] = given
        taken.add(cell.id)
        cell.metadata["user_batch"] = meta
        (setup if role == "setup" else main).append(cell)
    ordered = list(setup)
    if parameters:
        ordered.append(injected_cell(parameters, taken))
    ordered.extend(main)
    nb = nbformat.v4.new_notebook()
    nb.cells = ordered
    return nb


def build_notebook_notebook(run: dict, jobdir: str):
    """Kind ``notebook``: the input notebook with parameters injected after ``parameters``."""
    import nbformat

    name = run.get("inputNotebook") or "input.ipynb"
    path = name if os.path.isabs(name) else os.path.join(jobdir, name)
    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise RunnerError(f"input notebook {path} does not exist") from None
    except Exception as e:  # nbformat raises many kinds for bad JSON
        raise RunnerError(f"input notebook {path} cannot be read: {e}") from None
    # ids are required from nbformat 4.5 on; give cells of older notebooks one
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 0))
    taken: set = set()
    for cell in nb.cells:
        cid = cell.get("id")
        if not _valid_cell_id(cid) or cid in taken:
            cell["id"] = _fresh_id(taken)
        taken.add(cell["id"])
    # a rerun of an executed notebook: drop the previous injection (as papermill does)
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    parameters = run.get("parameters") or {}
    if parameters:
        cell = injected_cell(parameters, taken)
        where = 0
        for i, c in enumerate(nb.cells):
            if PARAMETERS_TAG in c.get("metadata", {}).get("tags", []):
                where = i + 1
                break
        nb.cells.insert(where, cell)
    return nb


def build_notebook(run: dict, jobdir: str):
    kind = run.get("kind")
    if kind == "cells":
        nb = build_cells_notebook(run)
    elif kind == "notebook":
        nb = build_notebook_notebook(run, jobdir)
    else:
        raise RunnerError(f"run.json 'kind' must be 'cells' or 'notebook', not {kind!r}")
    nb.metadata.setdefault("user_batch", {}).update(
        {"jobId": run.get("jobId"), "kind": kind, "notebookPath": run.get("notebookPath"),
         "parameters": run.get("parameters") or {}}
    )
    return nb


def save_notebook(nb, path: str) -> None:
    import nbformat

    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- environment


def environment_record() -> dict:
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


# --------------------------------------------------------------------------- execution


def strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]", "", text)


def _make_client_class():
    from nbclient import NotebookClient

    class StreamingClient(NotebookClient):
        """NotebookClient that echoes each output to the job log as the kernel sends it."""

        log_writer: Log | None = None

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            try:
                self._echo(msg)
            except Exception:  # echoing is best effort, never break execution
                pass
            return out

        def _echo(self, msg) -> None:
            log = self.log_writer
            if log is None:
                return
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                log.write(strip_ansi(content.get("text", "")))
            elif kind in ("execute_result", "display_data"):
                text = content.get("data", {}).get("text/plain")
                if text:
                    log.line(strip_ansi(text))
            elif kind == "error":
                log.line(strip_ansi("\n".join(content.get("traceback") or [])
                                    or f"{content.get('ename')}: {content.get('evalue')}"))

    return StreamingClient


class Runner:
    def __init__(self, jobdir: str, log: Log, item: int | None = None):
        # one sweep item writes its files in JOBDIR/items/<item>; run.json stays in JOBDIR
        self.run_dir = jobdir
        self.item = item
        self.jobdir = item_dir(jobdir, item) if item is not None else jobdir
        self.log = log
        self.run: dict = {}
        self.nb = None
        self.client = None
        self.kernel_pgid: int | None = None
        self.current_cell_id: str | None = None
        self.current_cell_index: int | None = None
        self.progress = {"total": 0, "done": 0, "failed": 0}
        self.error: dict | None = None
        self.output_path: str | None = None
        self.ipc_dir: str | None = None
        self.stopping = False  # set on walltime/cancel, before the kernel is interrupted/killed

    def path(self, name: str) -> str:
        return os.path.join(self.jobdir, name)

    # -- files

    def write_progress(self) -> None:
        write_json_atomic(self.path("progress.json"), self.progress)

    def write_error(self, ename, evalue, traceback, cell_id) -> None:
        self.error = {"ename": ename, "evalue": evalue, "traceback": strip_ansi(traceback),
                      "cellId": cell_id}
        write_json_atomic(self.path("error.json"), self.error)

    def cell_label(self, cell) -> str:
        meta = cell.get("metadata", {}).get("user_batch", {})
        return meta.get("sourceCellId") or cell.get("id") or "?"

    def save(self) -> None:
        if self.nb is None or self.output_path is None:
            return
        try:
            save_notebook(self.nb, self.output_path)
        except Exception as e:
            self.log.batch(f"could not save the executed notebook: {e}")

    # -- preparation

    def load(self) -> None:
        try:
            with open(os.path.join(self.run_dir, "run.json"), encoding="utf-8") as f:
                run = json.load(f)
        except FileNotFoundError:
            raise RunnerError(f"{os.path.join(self.run_dir, 'run.json')} does not exist") from None
        except json.JSONDecodeError as e:
            raise RunnerError(f"run.json is not valid JSON: {e}") from None
        if not isinstance(run, dict):
            raise RunnerError("run.json must hold a JSON object")
        out_dir = run.get("outputDir")
        if not isinstance(out_dir, str) or not out_dir:
            raise RunnerError("run.json needs 'outputDir' (an absolute path)")
        out_name = run.get("outputNotebook") or "output.ipynb"
        if os.path.basename(out_name) != out_name or out_name in (".", ".."):
            raise RunnerError(f"run.json 'outputNotebook' must be a file name, not {out_name!r}")
        if self.item is not None:
            run = apply_sweep_item(run, self.run_dir, self.item)
            out_dir = run["outputDir"]
        os.makedirs(out_dir, exist_ok=True)
        self.run = run
        self.output_path = os.path.join(out_dir, out_name)

    def kernel_env(self) -> dict:
        run = self.run
        env = dict(os.environ)
        env["BATCH_OUTPUT_DIR"] = run["outputDir"]
        if run.get("jobId"):
            env["BATCH_JOB_ID"] = str(run["jobId"])
        if self.item is not None:
            env["BATCH_SWEEP_ITEM"] = str(self.item)
        nb_dir = run.get("notebookDir")
        if nb_dir:
            env["BATCH_NOTEBOOK_DIR"] = nb_dir
            # the notebook's own modules import (ahead of site-packages)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in [nb_dir, env.get("PYTHONPATH", "")] if p
            )
        env.pop("JPY_PARENT_PID", None)
        return env

    # -- execution

    async def start_kernel(self) -> None:
        cls = _make_client_class()
        kernel_name = self.run.get("kernelName") or "python3"
        client = cls(self.nb, kernel_name=kernel_name, timeout=None, allow_errors=False,
                     record_timing=True, shutdown_kernel="graceful")
        client.log_writer = self.log
        self.client = client
        client.km = client.create_kernel_manager()
        client.km.shutdown_wait_time = CANCEL_GRACE_SECONDS
        # Unix sockets in a private directory: no TCP ports on a shared host (and ipykernel's
        # "running over TCP without encryption" warning stays out of the user's log)
        import tempfile

        self.ipc_dir = tempfile.mkdtemp(prefix="user-batch-")
        client.km.transport = "ipc"
        client.km.ip = os.path.join(self.ipc_dir, "kernel")
        self.log.batch(f"starting kernel {kernel_name!r}")
        try:
            await client.async_start_new_kernel(cwd=self.run["outputDir"], env=self.kernel_env())
            provisioner = getattr(client.km, "provisioner", None)
            self.kernel_pgid = getattr(provisioner, "pgid", None)
            if self.kernel_pgid:
                # the kernel runs in its own session: tell the proxy, so that a runner killed
                # with SIGKILL does not leave the kernel behind
                launch = json.load(open(self.path("launch.json"), encoding="utf-8"))
                launch["kernelPgid"] = self.kernel_pgid
                write_json_atomic(self.path("launch.json"), launch)
            await client.async_start_new_kernel_client()
        except Exception as e:
            raise RunnerError(f"kernel {kernel_name!r} failed to start: "
                              f"{type(e).__name__}: {e}") from e
        from jupyter_core.utils import ensure_async

        msg_id = await ensure_async(client.kc.kernel_info())
        reply = await client.async_wait_for_reply(msg_id)
        if reply is not None and "language_info" in reply["content"]:
            self.nb.metadata["language_info"] = reply["content"]["language_info"]
        spec = getattr(client.km, "kernel_spec", None)
        if spec is not None:
            self.nb.metadata["kernelspec"] = {"name": kernel_name, "display_name":
                                              spec.display_name, "language": spec.language}

    async def execute(self) -> str:
        """Start the kernel and run every code cell; returns the reason (ok/cell_error)."""
        from nbclient.exceptions import CellExecutionError, DeadKernelError

        await self.start_kernel()
        client = self.client
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            counted = INJECTED_TAG not in cell.metadata.get("tags", [])
            label = self.cell_label(cell)
            self.current_cell_id, self.current_cell_index = label, index
            self.log.line(f"[cell {label}] started")
            try:
                await client.async_execute_cell(
                    cell, index, execution_count=client.code_cells_executed + 1)
            except CellExecutionError as e:
                if self.stopping:  # interrupted by a cancel: the caller reports it
                    return "stopped"
                self.cell_failed(e.ename, e.evalue, self._traceback_of(cell, e), label, counted)
                return "cell_error"
            except DeadKernelError as e:
                if self.stopping:  # killed at the walltime: the caller reports it
                    return "stopped"
                self.cell_failed("DeadKernelError", str(e) or "the kernel died",
                                 "The kernel process died while running this cell "
                                 "(out of memory, os._exit or a crash).", label, counted)
                return "cell_error"
            if counted:
                self.progress["done"] += 1
                self.write_progress()
        self.current_cell_id = self.current_cell_index = None
        return "ok"

    @staticmethod
    def _traceback_of(cell, exc) -> str:
        for out in reversed(cell.get("outputs", [])):
            if out.get("output_type") == "error":
                return strip_ansi("\n".join(out.get("traceback") or []))
        return strip_ansi(str(exc))

    def cell_failed(self, ename, evalue, traceback, label, counted) -> None:
        if counted:
            self.progress["failed"] += 1
            self.write_progress()
        self.write_error(ename, evalue, traceback, label)
        self.log.batch(f"cell {label} failed: {ename}: {evalue}")

    def note_in_current_cell(self, text: str) -> None:
        """Append a stderr note to the cell that was running (shown in the saved notebook)."""
        if self.nb is None or self.current_cell_index is None:
            return
        import nbformat

        cell = self.nb.cells[self.current_cell_index]
        cell.setdefault("outputs", []).append(
            nbformat.v4.new_output("stream", name="stderr", text=text + "\n"))

    async def stop_kernel(self, graceful: bool) -> None:
        """Stop the kernel and everything in its process group."""
        import signal

        client = self.client
        km = getattr(client, "km", None) if client else None
        try:
            if km is not None and graceful and await km.is_alive():
                await km.shutdown_kernel(now=False)  # request, then kill after the grace time
        except Exception as e:
            self.log.batch(f"kernel shutdown: {e}")
        if self.kernel_pgid and self.kernel_pgid != os.getpgrp():
            try:
                os.killpg(self.kernel_pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            except OSError as e:
                self.log.batch(f"could not kill kernel process group {self.kernel_pgid}: {e}")
        try:
            if km is not None:
                if await km.is_alive():
                    await km.shutdown_kernel(now=True)
                else:
                    await km.cleanup_resources()
        except Exception:
            pass
        if self.ipc_dir:
            import shutil

            shutil.rmtree(self.ipc_dir, ignore_errors=True)
        try:
            if client is not None and client.kc is not None:
                from jupyter_core.utils import ensure_async

                await ensure_async(client.kc.stop_channels())
        except Exception:
            pass


async def _main(jobdir: str, log: Log, started: float, item: int | None = None) -> tuple[int, str]:
    import asyncio
    import signal
    import traceback as tb

    runner = Runner(jobdir, log, item)
    loop = asyncio.get_running_loop()
    stop: asyncio.Future = loop.create_future()

    def on_signal(signame: str) -> None:
        if not stop.done():
            stop.set_result(signame)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)

    def runner_error(message: str, detail: str = "") -> tuple[int, str]:
        log.batch(f"runner error: {message}")
        runner.write_error("RunnerError", message, detail or message, runner.current_cell_id)
        return EXIT_RUNNER_ERROR, "runner_error"

    try:
        runner.load()
        runner.nb = build_notebook(runner.run, runner.run_dir)
    except RunnerError as e:
        runner.save()
        return runner_error(str(e))
    except Exception as e:
        return runner_error(f"{type(e).__name__}: {e}", tb.format_exc())

    runner.progress["total"] = sum(
        1 for c in runner.nb.cells if c.cell_type == "code" and c.source.strip()
        and INJECTED_TAG not in c.metadata.get("tags", []))
    runner.write_progress()
    log.batch(f"job {runner.run.get('jobId')}: {runner.progress['total']} cell(s) to run")

    walltime = runner.run.get("walltimeSeconds")
    timeout = None
    if isinstance(walltime, (int, float)) and walltime > 0:
        timeout = max(0.0, walltime - (time.monotonic() - started))

    task = asyncio.ensure_future(runner.execute())
    done, _ = await asyncio.wait({task, stop}, timeout=timeout,
                                 return_when=asyncio.FIRST_COMPLETED)

    if task in done:
        try:
            reason = task.result()
        except RunnerError as e:
            await runner.stop_kernel(graceful=False)
            runner.save()
            return runner_error(str(e))
        except Exception as e:
            await runner.stop_kernel(graceful=False)
            runner.save()
            return runner_error(f"{type(e).__name__}: {e}", tb.format_exc())
        await runner.stop_kernel(graceful=True)
        runner.save()
        if reason == "ok":
            log.batch("all cells ran")
            return EXIT_OK, "ok"
        return EXIT_CELL_ERROR, "cell_error"

    if stop.done():
        # cancel: interrupt the running cell so its traceback lands in the notebook, then shut down
        log.batch(f"received {stop.result()}: cancelling")
        runner.stopping = True
        km = getattr(runner.client, "km", None)
        try:
            if km is not None and await km.is_alive():
                await km.interrupt_kernel()
                await asyncio.wait({task}, timeout=CANCEL_GRACE_SECONDS)
        except Exception:
            pass
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if runner.current_cell_index is not None:
            runner.note_in_current_cell("[batch] job cancelled")
        await runner.stop_kernel(graceful=True)
        runner.save()
        log.batch("cancelled")
        return EXIT_CANCELLED, "cancelled"

    # walltime: kill the kernel's process group at once, keep what we have
    log.batch(f"walltime of {walltime} s reached: stopping the kernel")
    runner.stopping = True
    task.cancel()
    await runner.stop_kernel(graceful=False)
    await asyncio.gather(task, return_exceptions=True)
    message = f"The job reached its walltime of {walltime} s and was stopped."
    if runner.current_cell_index is not None and runner.progress["total"]:
        runner.progress["failed"] += 1
        runner.write_progress()
    runner.note_in_current_cell(f"[batch] {message}")
    runner.write_error("WalltimeExceeded", message, message, runner.current_cell_id)
    runner.save()
    return EXIT_WALLTIME, "walltime"


def _write_environment(jobdir: str) -> None:
    try:
        write_json_atomic(os.path.join(jobdir, "env.json"), environment_record())
    except Exception as e:  # provenance loses the package list, the job itself goes on
        print(f"[batch] could not record the environment: {e}", file=sys.stderr, flush=True)


def run_one(jobdir: str, item: int | None = None) -> int:
    """One run (the whole job, or one sweep item): its seam files in its own directory."""
    started = time.monotonic()
    workdir = item_dir(jobdir, item) if item is not None else jobdir
    os.makedirs(workdir, exist_ok=True)
    write_json_atomic(os.path.join(workdir, "launch.json"),
                      {"pid": os.getpid(), "pgid": os.getpgrp(), "startedAt": now_iso()})
    log = Log()
    # Listing every installed package takes a few hundred ms: do it while the kernel starts
    # instead of before, and wait for it before reporting the end.
    env_thread = threading.Thread(target=_write_environment, args=(workdir,), daemon=True)
    env_thread.start()
    try:
        import asyncio

        code, reason = asyncio.run(_main(jobdir, log, started, item))
    except BaseException as e:  # last resort: still leave an exit.json behind
        import traceback

        log.batch(f"runner error: {type(e).__name__}: {e}")
        log.write(traceback.format_exc())
        try:
            write_json_atomic(os.path.join(workdir, "error.json"), {
                "ename": "RunnerError", "evalue": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(), "cellId": None})
        except OSError:
            pass
        code, reason = EXIT_RUNNER_ERROR, "runner_error"
    env_thread.join(timeout=30)
    log.batch(f"exit {code} ({reason})")
    write_json_atomic(os.path.join(workdir, "exit.json"),
                      {"exitCode": code, "reason": reason, "endedAt": now_iso()})
    return code


def sweep_summary(jobdir: str, letters: list[str]) -> tuple[dict, dict | None, str]:
    """progress.json for a whole sweep, the first failed item's error (named), and a sentence."""
    failed = [i for i, c in enumerate(letters) if c == "f"]
    progress = {"total": len(letters), "done": letters.count("d"), "failed": len(failed),
                "items": "".join(letters)}
    if not failed:
        return progress, None, ""
    first = failed[0]
    error = None
    try:
        with open(os.path.join(item_dir(jobdir, first), "error.json"), encoding="utf-8") as f:
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

    with open(os.path.join(jobdir, "sweep.json"), encoding="utf-8") as f:
        count = len(json.load(f))
    write_json_atomic(os.path.join(jobdir, "launch.json"),
                      {"pid": os.getpid(), "pgid": os.getpgrp(), "startedAt": now_iso()})
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
        write_json_atomic(os.path.join(jobdir, "progress.json"), sweep_summary(jobdir, letters)[0])
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
    write_json_atomic(os.path.join(jobdir, "progress.json"), progress)
    exit_record = {"exitCode": code, "reason": reason, "endedAt": now_iso()}
    if code == EXIT_OK and progress["failed"]:
        code = EXIT_CELL_ERROR
        exit_record = {"exitCode": code, "reason": "items_failed", "message": message, "endedAt": now_iso()}
        if error:
            write_json_atomic(os.path.join(jobdir, "error.json"), error)
    log.batch(f"sweep: {progress['done']} done, {progress['failed']} failed of {count}")
    write_json_atomic(os.path.join(jobdir, "exit.json"), exit_record)
    return code


USAGE = "usage: python -m user_batch.runner JOBDIR [--item N | --sweep]"


def _job_kind(jobdir: str) -> str | None:
    try:
        with open(os.path.join(jobdir, "run.json"), encoding="utf-8") as f:
            return json.load(f).get("kind")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None  # the notebook runner reports a bad run.json in its own words


def _run_catalog(jobdir: str) -> int:
    """A catalog run: the same entry point for every backend, the LSDB driver behind it. A local
    Dask cluster (no gateway named) gets the job's CPUs and memory."""
    with open(os.path.join(jobdir, "run.json"), encoding="utf-8") as f:
        run = json.load(f)
    os.environ.setdefault("USER_BATCH_CPUS", str(run.get("cpus") or 1))
    if run.get("memoryMiB"):
        os.environ.setdefault("USER_BATCH_MEMORY_MB", str(run["memoryMiB"]))
    from user_batch import catalog_run

    return catalog_run.main([jobdir])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2, 3) or (len(argv) == 2 and argv[1] != "--sweep") \
            or (len(argv) == 3 and (argv[1] != "--item" or not argv[2].isdigit())):
        print(USAGE, file=sys.stderr)
        return EXIT_RUNNER_ERROR
    jobdir = os.path.abspath(argv[0])
    if not os.path.isdir(jobdir):
        print(f"[batch] runner error: job directory {jobdir} does not exist", file=sys.stderr)
        return EXIT_RUNNER_ERROR
    if len(argv) == 2:
        return run_sweep(jobdir)
    if len(argv) == 1 and _job_kind(jobdir) == "catalog":
        return _run_catalog(jobdir)
    return run_one(jobdir, int(argv[2]) if len(argv) == 3 else None)


if __name__ == "__main__":
    sys.exit(main())
