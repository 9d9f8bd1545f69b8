"""The notebook runner: runs a ``cells`` or ``notebook`` job (a script job arrives as ``cells``).

:mod:`user_batch.runner` calls :func:`run_one` for ``python -m user_batch.runner JOBDIR`` and
``--item N``. It reads ``JOBDIR/run.json`` (written by the proxy), builds a notebook from it
(:mod:`user_batch.notebook_build`), executes it in a real Jupyter kernel with nbclient and
records everything the proxy reads back in the job directory. The seam is specified in
``docs/contract.md`` ("Job directory — the proxy ⇄ runner seam").

Files written in JOBDIR (each to a temporary name, then renamed):

* ``launch.json``   ``{pid, pgid, startedAt}`` — first thing; ``kernelPgid`` added once the
  kernel runs (the kernel has its own session, hence its own process group);
* ``env.json``      interpreter, installed packages, host, platform;
* ``progress.json`` ``{total, done, failed}`` — at start and after each code cell;
* ``error.json``    ``{ename, evalue, traceback, cellId}`` — cell error, walltime, runner error;
* ``exit.json``     ``{exitCode, reason, endedAt}`` — last.

One sweep item (``--item N``) writes all of these in ``JOBDIR/items/N`` instead, with its values
from ``sweep.json`` over ``parameters`` and its outputs in ``outputDir/item-N``.

The executed notebook goes to ``outputDir/<outputNotebook>`` in every outcome where a notebook
could be built (partial when a cell failed, the walltime hit or the job was cancelled).

The kernel runs in ``outputDir``, where every entry of the notebook's folder (``notebookDir``) is
linked for the run (:class:`NotebookFolderView`): relative paths read what they read
interactively, new files stay with the job; the links are removed at the end, and a linked file
the code rewrote is copied into the outputs too.

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
import shutil
import threading
import time

from user_batch.jobdir import (
    Log,
    RunnerError,
    item_dir,
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
    LAUNCH_JSON,
    PROGRESS_JSON,
    RUN_JSON,
    SWEEP_JSON,
)
from user_batch.notebook_build import INJECTED_TAG, build_notebook

#: seconds the kernel gets to react to an interrupt / shutdown request on cancel
CANCEL_GRACE_SECONDS = 2.0


# --------------------------------------------------------------------------- job folder


def apply_sweep_item(run: dict, jobdir: str, item: int) -> dict:
    """run.json as seen by one sweep item: its values over the job's parameters, its own output folder."""
    try:
        with open(os.path.join(jobdir, SWEEP_JSON), encoding="utf-8") as f:
            sweep = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise RunnerError(f"this job has no readable sweep.json ({e})") from None
    if (
        not isinstance(sweep, list)
        or not 0 <= item < len(sweep)
        or not isinstance(sweep[item], dict)
    ):
        raise RunnerError(
            f"sweep item {item} does not exist (the sweep has {len(sweep) if isinstance(sweep, list) else 0})"
        )
    return {
        **run,
        "parameters": {**(run.get("parameters") or {}), **sweep[item]},
        "outputDir": os.path.join(run["outputDir"], f"item-{item}"),
    }


def save_notebook(nb, path: str) -> None:
    import nbformat

    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- kernel output


def strip_ansi(text: str) -> str:
    import re

    return re.sub(
        r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]", "", text
    )


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
                log.line(
                    strip_ansi(
                        "\n".join(content.get("traceback") or [])
                        or f"{content.get('ename')}: {content.get('evalue')}"
                    )
                )

    return StreamingClient


class NotebookFolderView:
    """The files next to the notebook, seen from the job's output folder (the kernel's working
    folder): a symbolic link there for each entry of the notebook's folder, so that relative paths
    read what they read interactively, while files the code creates land in the job's outputs.

    When the run ends the links go (the proxy lists no links as outputs either); a linked file the
    code rewrote is copied into the outputs, so it is with the job as well as next to the notebook
    (where writing through a link put it, as running interactively would have).
    """

    def __init__(self, notebook_dir: str, work_dir: str, keep_out: set[str]):
        self.notebook_dir = notebook_dir
        self.work_dir = work_dir
        self.keep_out = keep_out
        self.links: list[str] = []
        self.started = 0.0

    def stage(self) -> int:
        self.started = time.time()
        try:
            names = sorted(os.listdir(self.notebook_dir))
        except OSError:
            return 0
        work = os.path.realpath(self.work_dir)
        for name in names:
            source = os.path.join(self.notebook_dir, name)
            target = os.path.join(self.work_dir, name)
            if name in self.keep_out or os.path.lexists(target):
                continue
            real = os.path.realpath(source)
            if work == real or work.startswith(real + os.sep):  # batch-jobs/ holds the outputs
                continue
            try:
                os.symlink(source, target)
            except OSError:
                continue
            self.links.append(name)
        return len(self.links)

    def unstage(self) -> list[str]:
        """Remove the links; the names of linked files the run changed (copied into the outputs)."""
        changed = []
        for name in self.links:
            target = os.path.join(self.work_dir, name)
            if not os.path.islink(target):  # the code replaced the link with a file of its own
                continue
            source = os.path.join(self.notebook_dir, name)
            try:
                os.unlink(target)
                if os.path.isfile(source) and os.path.getmtime(source) >= self.started:
                    shutil.copy2(source, target)
                    changed.append(name)
            except OSError:
                continue
        self.links = []
        return changed


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
        self.folder_view: NotebookFolderView | None = None

    def path(self, name: str) -> str:
        return os.path.join(self.jobdir, name)

    # -- files

    def write_progress(self) -> None:
        write_json_atomic(self.path(PROGRESS_JSON), self.progress)

    def write_error(self, ename, evalue, traceback, cell_id) -> None:
        self.error = {
            "ename": ename,
            "evalue": evalue,
            "traceback": strip_ansi(traceback),
            "cellId": cell_id,
        }
        write_json_atomic(self.path(ERROR_JSON), self.error)

    def cell_label(self, cell) -> str:
        meta = cell.get("metadata", {}).get("user_batch", {})
        return meta.get("sourceCellId") or cell.get("id") or "?"

    def save(self) -> None:
        if self.folder_view is not None:
            changed = self.folder_view.unstage()
            self.folder_view = None
            if changed:
                self.log.batch(
                    "changed next to the notebook and copied into the outputs: "
                    + ", ".join(changed)
                )
        if self.nb is None or self.output_path is None:
            return
        if os.path.islink(self.output_path):  # never write the executed notebook through a link
            os.unlink(self.output_path)
        try:
            save_notebook(self.nb, self.output_path)
        except Exception as e:
            self.log.batch(f"could not save the executed notebook: {e}")

    # -- preparation

    def load(self) -> None:
        run = read_json_object(self.run_dir, RUN_JSON)
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
            env["PYTHONPATH"] = os.pathsep.join(p for p in [nb_dir, env.get("PYTHONPATH", "")] if p)
        env.pop("JPY_PARENT_PID", None)
        return env

    # -- execution

    async def start_kernel(self) -> None:
        cls = _make_client_class()
        kernel_name = self.run.get("kernelName") or "python3"
        client = cls(
            self.nb,
            kernel_name=kernel_name,
            timeout=None,
            allow_errors=False,
            record_timing=True,
            shutdown_kernel="graceful",
        )
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
        notebook_dir = self.run.get("notebookDir")
        if notebook_dir and os.path.isdir(notebook_dir):
            view = NotebookFolderView(
                notebook_dir, self.run["outputDir"], {os.path.basename(self.output_path or "")}
            )
            linked = view.stage()
            self.folder_view = view
            self.log.batch(
                f"the code runs in the output folder {self.run['outputDir']}, where the "
                f"{linked} files and folders next to the notebook are linked: relative paths "
                "read them as they do interactively, and new files stay with the job"
            )
        try:
            await client.async_start_new_kernel(cwd=self.run["outputDir"], env=self.kernel_env())
            provisioner = getattr(client.km, "provisioner", None)
            self.kernel_pgid = getattr(provisioner, "pgid", None)
            if self.kernel_pgid:
                # the kernel runs in its own session: tell the proxy, so that a runner killed
                # with SIGKILL does not leave the kernel behind
                launch = json.load(open(self.path(LAUNCH_JSON), encoding="utf-8"))
                launch["kernelPgid"] = self.kernel_pgid
                write_json_atomic(self.path(LAUNCH_JSON), launch)
            await client.async_start_new_kernel_client()
        except Exception as e:
            raise RunnerError(
                f"kernel {kernel_name!r} failed to start: {type(e).__name__}: {e}"
            ) from e
        from jupyter_core.utils import ensure_async

        msg_id = await ensure_async(client.kc.kernel_info())
        reply = await client.async_wait_for_reply(msg_id)
        if reply is not None and "language_info" in reply["content"]:
            self.nb.metadata["language_info"] = reply["content"]["language_info"]
        spec = getattr(client.km, "kernel_spec", None)
        if spec is not None:
            self.nb.metadata["kernelspec"] = {
                "name": kernel_name,
                "display_name": spec.display_name,
                "language": spec.language,
            }

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
                    cell, index, execution_count=client.code_cells_executed + 1
                )
            except CellExecutionError as e:
                if self.stopping:  # interrupted by a cancel: the caller reports it
                    return "stopped"
                self.cell_failed(e.ename, e.evalue, self._traceback_of(cell, e), label, counted)
                return "cell_error"
            except DeadKernelError as e:
                if self.stopping:  # killed at the walltime: the caller reports it
                    return "stopped"
                self.cell_failed(
                    "DeadKernelError",
                    str(e) or "the kernel died",
                    "The kernel process died while running this cell "
                    "(out of memory, os._exit or a crash).",
                    label,
                    counted,
                )
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
        if ename == "FileNotFoundError":
            evalue = f"{evalue} {self.missing_file_hint()}"
        self.write_error(ename, evalue, traceback, label)
        self.log.batch(f"cell {label} failed: {ename}: {evalue}")

    def missing_file_hint(self) -> str:
        notebook_dir = self.run.get("notebookDir") or "?"
        return (
            f"(The job ran in its output folder, which shows the files next to the notebook, "
            f"{notebook_dir}: a path relative to the notebook works as it does interactively. "
            "Check that the file exists there, or give its full path.)"
        )

    def note_in_current_cell(self, text: str) -> None:
        """Append a stderr note to the cell that was running (shown in the saved notebook)."""
        if self.nb is None or self.current_cell_index is None:
            return
        import nbformat

        cell = self.nb.cells[self.current_cell_index]
        cell.setdefault("outputs", []).append(
            nbformat.v4.new_output("stream", name="stderr", text=text + "\n")
        )

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
        1
        for c in runner.nb.cells
        if c.cell_type == "code"
        and c.source.strip()
        and INJECTED_TAG not in c.metadata.get("tags", [])
    )
    runner.write_progress()
    if runner.run.get("script"):
        log.batch(f"job {runner.run.get('jobId')}: running the script {runner.run['script']}")
    else:
        total = runner.progress["total"]
        log.batch(f"job {runner.run.get('jobId')}: {total} cell{'' if total == 1 else 's'} to run")

    walltime = runner.run.get("walltimeSeconds")
    timeout = None
    if isinstance(walltime, (int, float)) and walltime > 0:
        timeout = max(0.0, walltime - (time.monotonic() - started))

    task = asyncio.ensure_future(runner.execute())
    done, _ = await asyncio.wait({task, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)

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


def run_one(jobdir: str, item: int | None = None) -> int:
    """One run (the whole job, or one sweep item): its seam files in its own directory."""
    started = time.monotonic()
    workdir = item_dir(jobdir, item) if item is not None else jobdir
    os.makedirs(workdir, exist_ok=True)
    write_launch(workdir)
    log = Log()
    # Listing every installed package takes a few hundred ms: do it while the kernel starts
    # instead of before, and wait for it before reporting the end.
    env_thread = threading.Thread(target=write_environment, args=(workdir,), daemon=True)
    env_thread.start()
    try:
        import asyncio

        code, reason = asyncio.run(_main(jobdir, log, started, item))
    except BaseException as e:  # last resort: still leave an exit.json behind
        import traceback

        log.batch(f"runner error: {type(e).__name__}: {e}")
        log.write(traceback.format_exc())
        try:
            write_json_atomic(
                os.path.join(workdir, ERROR_JSON),
                {
                    "ename": "RunnerError",
                    "evalue": f"{type(e).__name__}: {e}",
                    "traceback": traceback.format_exc(),
                    "cellId": None,
                },
            )
        except OSError:
            pass
        code, reason = EXIT_RUNNER_ERROR, "runner_error"
    env_thread.join(timeout=30)
    log.batch(f"exit {code} ({reason})")
    write_exit(workdir, code, reason)
    return code


def run_job(jobdir: str, run: dict) -> int:
    """A ``cells`` or ``notebook`` job from :mod:`user_batch.runner`. run.json is read again
    here, by :meth:`Runner.load`, which reports what is wrong with it as a runner error."""
    return run_one(jobdir)
