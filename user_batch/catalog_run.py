"""Catalog job driver: ``python -m user_batch.catalog_run JOBDIR``.

Applies a user function to every partition of a HATS catalog with LSDB ``map_partitions`` on a
Dask cluster (``user_batch.dask.dask_client()``: the gateway cluster, or a local one) and writes
the result as a new HATS catalog. ``python -m user_batch.runner JOBDIR`` comes here for a job of
kind ``catalog`` (:func:`run_job`); ``python -m user_batch.catalog_run JOBDIR`` runs it directly.
The job directory contract mirrors the notebook runner's (:mod:`user_batch.notebook_run`):

Input ``JOBDIR/catalog.json`` (written by the proxy)::

    {"jobId", "catalog": "/abs/catalog", "region": null | {"type": "cone", "ra", "dec",
     "radiusArcsec"} | {"type": "box", "ra": [min, max], "dec": [min, max]} |
     {"type": "polygon", "vertices": [[ra, dec], ...]}, "columns": null | [...],
     "function": {"name", "source", "setupSource"?}, "partitions": null | [{"order", "pixel"}],
     "output": "/abs/dir/of/new/catalog", "outputName", "previewRows": 20,
     "walltimeSeconds"?: optional, as in run.json}

The function is ``def NAME(df)`` or ``def NAME(df, pixel)`` (``pixel`` has ``.order`` and
``.pixel``); it returns a DataFrame that keeps the catalog's ra/dec columns.

Files written in JOBDIR (each to a temporary name, then renamed):

* ``launch.json``   ``{pid, pgid, startedAt}`` — first thing (the proxy signals the group);
* ``env.json``      interpreter, installed packages (as the notebook runner);
* ``progress.json`` ``{total, done, failed}`` — at start and as each partition ends;
* ``partitions.json`` ``[{order, pixel, state, rows, seconds, error}]`` — live; ``state`` is
  ``pending`` until the partition ends, then ``done`` or ``failed`` (``cancelled`` when the job
  was cancelled or hit its walltime before the partition ran);
* ``error.json``    ``{ename, evalue, traceback, cellId: null, partition}`` — first failed
  partition (rewritten at the end with how many failed), or the driver error;
* ``preview.arrow`` + ``preview.json`` — first ``previewRows`` rows of the result;
* ``catalog-provenance.json`` — input, function, cluster, output files with sha256;
* ``exit.json``     ``{exitCode, reason, endedAt, message}`` — last.

Exit codes: 0 ``ok``; 1 ``partition_error`` (some partitions failed; the result holds the
others); 2 ``runner_error`` (bad catalog.json, catalog, function source, cluster); 124
``walltime``; 143 ``cancelled`` (SIGTERM/SIGINT: the Dask work is stopped, cluster closed).

stdout (the proxy appends it to the job log) carries ``[batch]`` lines: a start line, one line
per finished partition, an end line.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
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
    CATALOG_JSON,
    CATALOG_PROVENANCE_JSON,
    ERROR_JSON,
    EXIT_CANCELLED,
    EXIT_CELL_ERROR,
    EXIT_OK,
    EXIT_RUNNER_ERROR,
    EXIT_WALLTIME,
    PARTITIONS_JSON,
    PREVIEW_ARROW,
    PREVIEW_JSON,
    PROGRESS_JSON,
)

#: how often the driver looks at finished partitions, the cancel flag and the walltime
POLL_SECONDS = 0.1
#: seconds the client and the cluster each get to close before we stop waiting for them
CLOSE_TIMEOUT_SECONDS = 3
#: how long a local cluster may take to register its workers (a loaded 2-core machine needs seconds).
WORKERS_TIMEOUT_SECONDS = 120
#: file names under which the user's code appears in tracebacks
SETUP_FILENAME = "<setup>"
VERSION_PACKAGES = ("dask", "distributed", "lsdb", "hats", "pandas", "pyarrow", "nested-pandas")


class Cancelled(Exception):
    """SIGTERM/SIGINT arrived: stop the Dask work and end with 143."""


class Walltime(Exception):
    """walltimeSeconds reached: stop the Dask work and end with 124."""


# --------------------------------------------------------------------------- job spec


def load_spec(jobdir: str) -> dict:
    spec = read_json_object(jobdir, CATALOG_JSON)
    for key in ("catalog", "output"):
        if not isinstance(spec.get(key), str) or not os.path.isabs(spec[key]):
            raise RunnerError(f"catalog.json needs '{key}' as an absolute path")
    fn = spec.get("function")
    if not isinstance(fn, dict) or not isinstance(fn.get("source"), str):
        raise RunnerError("catalog.json needs 'function': {name, source, setupSource?}")
    fn.setdefault("name", "process")
    if not isinstance(fn["name"], str) or not fn["name"].isidentifier():
        raise RunnerError(f"function name {fn['name']!r} is not a Python identifier")
    columns = spec.get("columns")
    if columns is not None and not (
        isinstance(columns, list) and all(isinstance(c, str) for c in columns)
    ):
        raise RunnerError("catalog.json 'columns' must be null or a list of column names")
    rows = spec.get("previewRows")
    rows = 20 if rows is None else rows
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise RunnerError("catalog.json 'previewRows' must be a whole number >= 0")
    spec["previewRows"] = rows
    return spec


def function_filename(name: str) -> str:
    return f"<function {name}>"


def compile_user_code(fn: dict):
    """Compile setup and function source; a syntax error names the part and the line."""
    parts = []
    for label, filename, source in (
        ("setup code", SETUP_FILENAME, fn.get("setupSource") or ""),
        (f"function {fn['name']}", function_filename(fn["name"]), fn["source"]),
    ):
        try:
            parts.append(compile(source, filename, "exec"))
        except SyntaxError as e:
            where = f"line {e.lineno}" + (f", column {e.offset}" if e.offset else "")
            text = f": {e.text.strip()}" if e.text and e.text.strip() else ""
            raise RunnerError(
                f"the {label} has a syntax error at {where}: {e.msg}{text}. "
                "Fix the code and submit again."
            ) from None
    return parts


def takes_pixel(func, name: str) -> bool:
    """``(df)`` or ``(df, pixel)``: anything else cannot be called per partition."""
    import inspect

    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: call with the frame only
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    if len(required) > 2 or not (positional or varargs):
        raise RunnerError(
            f"function {name} must take one argument (df) or two (df, pixel); "
            f"it takes {len(required) if positional else 0}"
        )
    # a second parameter with a default is the user's own option, unless it is called pixel
    return len(required) == 2 or (len(positional) >= 2 and positional[1].name == "pixel")


# --------------------------------------------------------------------------- on the workers
# These run inside Dask tasks. They import what they need themselves and never raise for a
# user error: the partition's outcome comes back as data (so that exceptions of classes defined
# in the user's code never need to be unpickled in the driver).


def load_user_function(fn: dict):
    """Run setup + function source in a fresh namespace; source lines show in tracebacks."""
    import linecache

    namespace = {"__name__": "__user_batch_job__", "__builtins__": __builtins__}
    for filename, source in (
        (SETUP_FILENAME, fn.get("setupSource") or ""),
        (function_filename(fn["name"]), fn["source"]),
    ):
        # mtime None: linecache.checkcache never drops these entries
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - running it is the job
    func = namespace.get(fn["name"])
    if not callable(func):
        raise NameError(f"the function source does not define a function named {fn['name']!r}")
    return func


def user_traceback(exc: BaseException) -> str:
    """The traceback from the first frame of the user's code on (driver frames are noise)."""
    import traceback

    tb = exc.__traceback__
    user_files = (SETUP_FILENAME, "<function ")
    probe = tb
    while probe is not None and not probe.tb_frame.f_code.co_filename.startswith(user_files):
        probe = probe.tb_next
    return "".join(traceback.format_exception(type(exc), exc, probe or tb))


def check_result(result, df, pixel, ra_col: str, dec_col: str):
    """The function's result must be a DataFrame of rows of this partition, with ra/dec."""
    import numpy as np
    import pandas as pd
    from hats.pixel_math import spatial_index_to_healpix
    from hats.pixel_math.spatial_index import SPATIAL_INDEX_COLUMN, compute_spatial_index

    if not isinstance(result, pd.DataFrame):
        raise TypeError(f"the function must return a pandas DataFrame, not {type(result).__name__}")
    missing = [c for c in (ra_col, dec_col) if c not in result.columns]
    if missing:
        raise ValueError(
            f"the result must keep the columns {ra_col!r} and {dec_col!r} so that it "
            f"can be written as a HATS catalog; it lacks {', '.join(map(repr, missing))}"
        )
    if result.index.name != SPATIAL_INDEX_COLUMN:
        # the function reset or replaced the index: rebuild it from the coordinates
        result = result.set_index(
            pd.Index(
                compute_spatial_index(result[ra_col].to_numpy(), result[dec_col].to_numpy()),
                name=SPATIAL_INDEX_COLUMN,
            )
        )
    if len(result):
        pixels = spatial_index_to_healpix(result.index.to_numpy(), target_order=pixel.order)
        if not np.all(pixels == pixel.pixel):
            raise ValueError(
                f"the result has rows outside partition Norder={pixel.order} "
                f"Npix={pixel.pixel}: the function must not change {ra_col!r} or "
                f"{dec_col!r}"
            )
    return result


def run_partition(df, pixel, job: dict):
    """One partition: user function, checks, write the Parquet file. Returns a stats row."""
    import time as _time

    import pandas as pd

    started = _time.perf_counter()
    rows, error = 0, None
    try:
        func = load_user_function(job["function"])
        result = func(df, pixel) if job["takesPixel"] else func(df)
        result = check_result(result, df, pixel, job["ra"], job["dec"])
        write_partition(result, pixel, job)
        rows = len(result)
    except Exception as e:  # the user's error is this partition's outcome, not the task's
        error = {"ename": type(e).__name__, "evalue": str(e), "traceback": user_traceback(e)}
        remove_partition_files(pixel, job["output"])
    return pd.DataFrame(
        {
            "rows": pd.Series([rows], dtype="int64"),
            "seconds": pd.Series([_time.perf_counter() - started], dtype="float64"),
            "error": pd.Series([json.dumps(error) if error else None], dtype=object),
        }
    )


def write_partition(result, pixel, job: dict) -> None:
    """Parquet file + count histogram + done marker, as lsdb's own writer leaves them."""
    from hats.io import file_io
    from lsdb.io.to_hats import perform_write

    perform_write(result, pixel, file_io.get_upath(job["output"]), job["histogramOrder"])


def remove_partition_files(pixel, output: str) -> None:
    """A failed partition leaves nothing that the catalog metadata step would pick up."""
    import hats as hc
    from hats.io import file_io
    from lsdb.io.to_hats import DONE_DIR_NAME, HISTOGRAM_DIR_NAME

    base = file_io.get_upath(output)
    for path in (
        hc.io.paths.pixel_catalog_file(base, pixel),
        base / DONE_DIR_NAME / f"{pixel.order}_{pixel.pixel}_done",
        base / HISTOGRAM_DIR_NAME / f"{pixel.order}_{pixel.pixel}_histogram.npz",
    ):
        try:
            os.remove(str(path))
        except OSError:
            pass


STATS_META = {"rows": "int64", "seconds": "float64", "error": object}


# --------------------------------------------------------------------------- Dask


def make_client():
    """The site's cluster (user_batch.dask), else a small local one sized from USER_BATCH_CPUS."""
    try:
        from user_batch.dask import dask_client
    except ImportError:
        dask_client = None
    if dask_client is not None:
        return dask_client()
    from distributed import Client, LocalCluster

    cpus = max(1, int(os.environ.get("USER_BATCH_CPUS") or os.cpu_count() or 1))
    cluster = LocalCluster(
        n_workers=cpus,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    client = Client(cluster)
    # on a loaded machine the worker processes may not have registered yet: the warm-up and the
    # provenance's cluster record must see them all
    client.wait_for_workers(cpus, timeout=WORKERS_TIMEOUT_SECONDS)
    return client


def warm_up_workers(client) -> list:
    """Start the slow lsdb import on every worker now; the futures must be kept meanwhile."""
    try:
        workers = list(client.scheduler_info(n_workers=-1).get("workers") or {})
        return [
            client.submit(import_lsdb, workers=[w], allow_other_workers=False, pure=False)
            for w in workers
        ]
    except Exception:  # only an optimisation
        return []


def import_lsdb() -> None:
    import lsdb  # noqa: F401


def close_client(client, log: Log) -> None:
    """Close the client and the cluster it drives (its worker processes go with it)."""
    cluster = getattr(client, "cluster", None)
    for what, obj in (("client", client), ("cluster", cluster)):
        if obj is None:
            continue
        try:
            obj.close(timeout=CLOSE_TIMEOUT_SECONDS)
        except TypeError:
            obj.close()
        except TimeoutError:
            log.batch(f"the Dask {what} did not close within {CLOSE_TIMEOUT_SECONDS} s")
        except Exception as e:  # a cluster already gone must not turn a result into an error
            log.batch(f"closing the Dask {what}: {type(e).__name__}: {e}")


def cluster_record(client) -> dict:
    import platform
    from importlib import metadata

    record: dict = {"cluster": type(getattr(client, "cluster", None)).__name__}
    try:
        info = client.scheduler_info(n_workers=-1)
    except TypeError:
        info = client.scheduler_info()
    except Exception as e:
        info = {}
        record["error"] = str(e)
    address = info.get("address") or getattr(client, "scheduler", None) and client.scheduler.address
    record["schedulerAddress"] = address
    record["schedulerAddressType"] = str(address).split("://", 1)[0] if address else None
    workers = list((info.get("workers") or {}).values())
    record["workers"] = len(workers)
    record["threads"] = sum(int(w.get("nthreads") or 0) for w in workers)
    record["memoryBytes"] = sum(int(w.get("memory_limit") or 0) for w in workers)
    versions = {"python": platform.python_version()}
    for name in VERSION_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    record["versions"] = versions
    return record


# --------------------------------------------------------------------------- the driver


def pixel_dict(pixel) -> dict:
    """HealpixPixel fields are numpy integers: plain ints for JSON."""
    return {"order": int(pixel.order), "pixel": int(pixel.pixel)}


def pixel_label(pixel) -> str:
    return f"Norder={int(pixel.order)} Npix={int(pixel.pixel)}"


def read_properties(catalog_dir: str) -> dict:
    """hats.properties as key -> value strings (Java properties, one ``key=value`` a line)."""
    props = {}
    for name in ("hats.properties", "properties"):
        path = os.path.join(catalog_dir, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if line and not line.startswith(("#", "!")) and "=" in line:
                        key, value = line.split("=", 1)
                        props[key.strip()] = value.strip()
            break
    return props


def output_files(output: str) -> list[dict]:
    files = []
    for root, dirs, names in os.walk(output):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            files.append(
                {
                    "path": os.path.relpath(path, output),
                    "size": os.path.getsize(path),
                    "sha256": sha256_file(path),
                }
            )
    return files


class Driver:
    def __init__(self, jobdir: str, log: Log):
        self.jobdir = jobdir
        self.log = log
        self.spec: dict = {}
        self.client = None
        self.cancel_signal: str | None = None
        self.deadline: float | None = None
        self.pixels: list = []
        self.planned: list | None = None
        self.states: list[dict] = []
        self.progress = {"total": 0, "done": 0, "failed": 0}
        self.first_error: dict | None = None
        self.ra_col = self.dec_col = None
        self.catalog_props: dict = {}
        self.columns: list | None = None
        self.takes_pixel = False
        self.cluster: dict = {}
        self.timings: dict = {}
        self.output_rows = 0
        self.warming: list = []
        self.worker_pids: list[int] = []
        self.futures: list = []

    def path(self, name: str) -> str:
        return os.path.join(self.jobdir, name)

    def stop_cluster(self) -> None:
        """Close client and cluster. Local workers are killed first: a polite close waits for
        a worker busy in user code, and takes seconds even when idle; their results are already
        on disk. A remote (gateway) cluster is closed politely, which shuts it down."""
        if self.client is None:
            return
        if self.futures:
            # a gateway cluster belongs to the proxy and stays up: drop our work on it
            try:
                self.client.cancel(self.futures, force=True)
            except Exception as e:
                self.log.batch(f"cancelling the Dask tasks: {type(e).__name__}: {e}")
            self.futures = []
        # the pids seen at start, and the current ones: a nanny restarts a worker that died
        # (e.g. from the proxy's SIGTERM to the whole process group)
        kill_child_processes(
            sorted(set(self.worker_pids) | set(nanny_worker_pids(self.client))), self.log
        )
        close_client(self.client, self.log)
        self.client = None

    def check_stop(self) -> None:
        if self.cancel_signal:
            raise Cancelled(self.cancel_signal)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise Walltime()

    # -- files

    def write_progress(self) -> None:
        write_json_atomic(self.path(PROGRESS_JSON), self.progress)

    def write_partitions(self) -> None:
        write_json_atomic(self.path(PARTITIONS_JSON), self.states)

    def write_error(self, ename, evalue, traceback, partition=None) -> None:
        write_json_atomic(
            self.path(ERROR_JSON),
            {
                "ename": ename,
                "evalue": evalue,
                "traceback": traceback,
                "cellId": None,
                "partition": partition,
            },
        )

    # -- preparation

    def prepare_function(self) -> None:
        fn = self.spec["function"]
        compile_user_code(fn)
        try:
            func = load_user_function(fn)
        except Exception as e:
            raise RunnerError(
                f"running the setup code and the definition of function "
                f"{fn['name']} failed: {type(e).__name__}: {e}\n"
                f"{user_traceback(e)}"
            ) from None
        self.takes_pixel = takes_pixel(func, fn["name"])

    def check_catalog_path(self) -> None:
        path = self.spec["catalog"]
        if not os.path.isdir(path):
            raise RunnerError(
                f"catalog {path} does not exist or is not a folder; "
                "choose a HATS catalog folder (it holds hats.properties)"
            )

    def open_catalog(self):
        import lsdb

        path = self.spec["catalog"]
        self.catalog_props = read_properties(path)
        try:
            base = lsdb.open_catalog(path)
        except Exception as e:
            raise RunnerError(
                f"{path} cannot be opened as a HATS catalog: {type(e).__name__}: {e}"
            ) from None
        info = base.hc_structure.catalog_info
        self.ra_col, self.dec_col = info.ra_column, info.dec_column
        columns = self.spec.get("columns")
        if columns:
            unknown = [c for c in columns if c not in base.columns]
            if unknown:
                raise RunnerError(
                    f"catalog {path} has no column(s) {', '.join(unknown)}; "
                    f"it has {', '.join(base.columns)}"
                )
            # the result must be a catalog again, so the coordinates always come along
            columns = [c for c in (self.ra_col, self.dec_col) if c not in columns] + columns
            base = lsdb.open_catalog(path, columns=columns)
        self.columns = list(base.columns)
        return self.apply_region(base, self.spec.get("region"))

    def apply_region(self, catalog, region):
        if region is None:
            return catalog
        kind = region.get("type") if isinstance(region, dict) else None
        try:
            if kind == "cone":
                return catalog.cone_search(
                    float(region["ra"]), float(region["dec"]), float(region["radiusArcsec"])
                )
            if kind == "box":
                return catalog.box_search(
                    ra=tuple(map(float, region["ra"])), dec=tuple(map(float, region["dec"]))
                )
            if kind == "polygon":
                return catalog.polygon_search([tuple(map(float, v)) for v in region["vertices"]])
        except ImportError as e:  # polygon_search needs lsst-sphgeom, in user-batch[catalog]
            raise RunnerError(
                f"a {kind} region needs a package this environment lacks ({e}); "
                "install user-batch[catalog] (it brings lsst-sphgeom) into the "
                "job's environment, or use a cone or box region"
            ) from None
        except (KeyError, TypeError, ValueError) as e:
            raise RunnerError(
                f"region {json.dumps(region)} cannot be applied: {type(e).__name__}: {e}"
            ) from None
        raise RunnerError(f"region type must be 'cone', 'box' or 'polygon', not {kind!r}")

    def compare_plan(self) -> None:
        planned = self.spec.get("partitions")
        if planned is None:
            return
        try:
            self.planned = [{"order": int(p["order"]), "pixel": int(p["pixel"])} for p in planned]
        except (KeyError, TypeError, ValueError):
            raise RunnerError(
                "catalog.json 'partitions' must be null or a list of {order, pixel} objects"
            ) from None
        actual = {(int(p.order), int(p.pixel)) for p in self.pixels}
        wanted = {(p["order"], p["pixel"]) for p in self.planned}
        if actual != wanted:
            self.log.batch(
                f"note: the planned partition list ({len(wanted)}) differs from LSDB's "
                f"selection ({len(actual)}); running LSDB's selection"
            )

    def histogram_order(self, catalog) -> int:
        # the same choice lsdb's writer makes, so the final metadata step agrees with our files
        info = catalog.hc_structure.catalog_info
        if info.skymap_order is not None:
            return int(info.skymap_order)
        depth = catalog.hc_structure.pixel_tree.get_max_depth() if self.pixels else 0
        return max(int(depth), 8)

    def prepare_output(self) -> None:
        output = self.spec["output"]
        if os.path.isdir(output) and os.listdir(output):
            raise RunnerError(
                f"output folder {output} already holds files; choose another output name"
            )
        os.makedirs(output, exist_ok=True)

    # -- running

    def submit(self, catalog):
        """One Dask future per partition, in pixel order."""
        import pandas as pd

        job = {
            "function": self.spec["function"],
            "takesPixel": self.takes_pixel,
            "ra": self.ra_col,
            "dec": self.dec_col,
            "output": self.spec["output"],
            "histogramOrder": self.histogram_order(catalog),
        }
        meta = pd.DataFrame({k: pd.Series(dtype=v) for k, v in STATS_META.items()})
        stats = catalog.map_partitions(run_partition, job, meta=meta, include_pixel=True)
        # the task graph with its pixel -> key map (as Catalog.compute uses it), so that each
        # future is known by its partition; client.get(sync=False) gives one future per key
        graph = stats._operation.build()
        # tasks that unpickle lsdb objects while a warm-up import runs can deadlock on the
        # import lock: let the warm-up finish (it overlapped with opening the catalog)
        self.wait_for_warm_up()
        keys = [graph.pixel_to_key_map[p] for p in self.pixels]
        self.futures = self.client.get(graph.graph, keys, sync=False)
        return self.futures

    def wait_for_warm_up(self) -> None:
        from distributed import wait

        while self.warming:
            try:
                wait(self.warming, timeout=POLL_SECONDS * 5)
                self.warming = []
            except TimeoutError:
                self.check_stop()

    def wait(self, futures) -> None:
        from distributed import as_completed

        index = {f.key: i for i, f in enumerate(futures)}
        pending = as_completed(futures)
        while not pending.is_empty():
            for future in pending.next_batch(block=False):
                self.partition_ended(index[future.key], future)
            self.check_stop()
            time.sleep(POLL_SECONDS)
        for future in pending.next_batch(block=False):
            self.partition_ended(index[future.key], future)

    def partition_ended(self, i: int, future) -> None:
        pixel = self.pixels[i]
        state = self.states[i]
        if future.status == "finished":
            row = future.result().iloc[0]
            error = json.loads(row["error"]) if row["error"] else None
            state.update(rows=int(row["rows"]), seconds=round(float(row["seconds"]), 3))
        else:  # reading the partition (not the user's function) failed
            import traceback as tb

            exc = future.exception()
            error = {
                "ename": type(exc).__name__,
                "evalue": str(exc),
                "traceback": "".join(tb.format_exception(type(exc), exc, future.traceback())),
            }
        state.update(state="failed" if error else "done", error=error)
        self.progress["failed" if error else "done"] += 1
        n = self.progress["done"] + self.progress["failed"]
        where = f"partition {n}/{self.progress['total']} ({pixel_label(pixel).replace(' ', ', ')})"
        if error:
            self.log.batch(f"{where} failed: {error['ename']}: {error['evalue']}")
            if self.first_error is None:  # its traceback in the log too; later ones only in files
                self.log.write(error["traceback"])
                self.first_error = dict(error, partition=pixel_dict(pixel))
                self.write_error(
                    error["ename"],
                    self.failure_sentence(),
                    error["traceback"],
                    self.first_error["partition"],
                )
        else:
            self.output_rows += state["rows"]
            self.log.batch(f"{where}: {state['rows']} rows in {state['seconds']:.1f} s")
        self.write_progress()
        self.write_partitions()

    def failure_sentence(self) -> str:
        e = self.first_error
        text = (
            f"partition Norder={e['partition']['order']} Npix={e['partition']['pixel']} "
            f"failed: {e['ename']}: {e['evalue']}"
        )
        failed = self.progress["failed"]
        if failed > 1:
            text += f" ({failed} of {self.progress['total']} partitions failed)"
        return text

    # -- result

    def finalize_catalog(self, catalog) -> list:
        """Write the HATS metadata over the partition files that the workers wrote."""
        from hats.io import file_io
        from lsdb.io.to_hats import to_hats

        for p, s in zip(self.pixels, self.states, strict=True):
            if s["state"] == "done" and s["rows"] == 0:
                remove_partition_files(p, self.spec["output"])  # HATS lists no empty pixels
        kept = [
            p
            for p, s in zip(self.pixels, self.states, strict=True)
            if s["state"] == "done" and s["rows"]
        ]
        if not kept:
            from lsdb.io.to_hats import remove_done_files, remove_histogram_files

            base = file_io.get_upath(self.spec["output"])
            remove_done_files(base)
            remove_histogram_files(base)
            self.log.batch(
                "the result has no rows: no catalog written (the output folder is empty)"
            )
            return []
        name = self.spec.get("outputName") or os.path.basename(self.spec["output"])
        # resume=True: lsdb finds every kept partition already written and only adds metadata
        to_hats(
            catalog.partitions[kept],
            base_catalog_path=file_io.get_upath(self.spec["output"]),
            catalog_name=name,
            histogram_order=self.histogram_order(catalog),
            resume=True,
            progress_bar=False,
            default_columns=None,
        )
        return kept

    def write_preview(self, kept: list) -> None:
        import hats as hc
        import pyarrow as pa
        import pyarrow.parquet as pq
        from hats.io import file_io

        want = self.spec["previewRows"]
        tables, have, schema = [], 0, None
        base = file_io.get_upath(self.spec["output"])
        for pixel in kept:
            table = pq.read_table(str(hc.io.paths.pixel_catalog_file(base, pixel)))
            schema = schema or table.schema
            if have < want:
                tables.append(table.slice(0, want - have))
                have += min(table.num_rows, want - have)
        if schema is None:  # no rows at all: an empty table still tells the viewer so
            schema = pa.schema([])
        preview = pa.concat_tables(tables) if tables else schema.empty_table()
        preview = preview.replace_schema_metadata(None)  # pandas metadata: no use to a viewer
        tmp = self.path(f"{PREVIEW_ARROW}.tmp-{os.getpid()}")
        with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, preview.schema) as writer:
            writer.write_table(preview)
        os.replace(tmp, self.path(PREVIEW_ARROW))
        write_json_atomic(
            self.path(PREVIEW_JSON),
            {
                "columns": preview.schema.names,
                "rows": preview.num_rows,
                "totalRows": self.output_rows,
            },
        )

    def provenance(self, status: str) -> dict:
        fn = self.spec.get("function") or {}
        output = self.spec.get("output")
        return {
            "jobId": self.spec.get("jobId"),
            "status": status,
            "catalog": {"path": self.spec.get("catalog"), "properties": self.catalog_props},
            "region": self.spec.get("region"),
            "columns": {"requested": self.spec.get("columns"), "read": self.columns},
            "partitions": {
                "planned": self.planned,
                "actual": [pixel_dict(p) for p in self.pixels],
                "agree": None
                if self.planned is None
                else sorted((p["order"], p["pixel"]) for p in self.planned)
                == sorted((int(p.order), int(p.pixel)) for p in self.pixels),
            },
            "function": {
                "name": fn.get("name"),
                "source": fn.get("source"),
                "sha256": hashlib.sha256((fn.get("source") or "").encode()).hexdigest(),
                "setupSource": fn.get("setupSource"),
                "setupSha256": hashlib.sha256((fn.get("setupSource") or "").encode()).hexdigest(),
                "takesPixel": self.takes_pixel,
            },
            "dask": self.cluster,
            "output": {
                "path": output,
                "name": self.spec.get("outputName"),
                "files": output_files(output) if output and os.path.isdir(output) else [],
            },
            "counts": dict(self.progress, rows=self.output_rows),
            "timings": self.timings,
        }


def run(driver: Driver, started: float) -> tuple[int, str, str]:
    log = driver.log
    spec = driver.spec = load_spec(driver.jobdir)
    walltime = spec.get("walltimeSeconds")
    if isinstance(walltime, (int, float)) and walltime > 0:
        driver.deadline = started + walltime
    driver.prepare_function()
    driver.check_catalog_path()
    driver.prepare_output()

    log.batch(f"job {spec.get('jobId')}: starting the Dask cluster, then opening {spec['catalog']}")
    # the cluster first: its workers import lsdb while the driver opens the catalog
    t = time.monotonic()
    driver.client = make_client()
    driver.warming = warm_up_workers(driver.client)
    driver.cluster = cluster_record(driver.client)
    driver.worker_pids = local_worker_pids(driver.client)
    log.batch(
        f"Dask: {driver.cluster['cluster']} with {driver.cluster['workers']} worker(s), "
        f"{driver.cluster['threads']} thread(s)"
    )
    driver.timings["clusterStartSeconds"] = round(time.monotonic() - t, 3)
    driver.check_stop()

    t = time.monotonic()
    catalog = driver.open_catalog()
    driver.pixels = list(catalog.get_healpix_pixels())
    driver.compare_plan()
    driver.states = [
        dict(pixel_dict(p), state="pending", rows=None, seconds=None, error=None)
        for p in driver.pixels
    ]
    driver.progress["total"] = len(driver.pixels)
    driver.write_progress()
    driver.write_partitions()
    log.batch(
        f"job {spec.get('jobId')}: function {spec['function']['name']} over "
        f"{len(driver.pixels)} partition(s) of {spec['catalog']}"
    )
    driver.timings["openCatalogSeconds"] = round(time.monotonic() - t, 3)
    driver.check_stop()

    t = time.monotonic()
    if driver.pixels:
        driver.wait(driver.submit(catalog))
    driver.futures = []  # all ended: nothing to cancel
    driver.timings["computeSeconds"] = round(time.monotonic() - t, 3)
    # recorded again: on a gateway the workers join after the driver connected. A later look
    # that sees fewer workers (one already gone, or a stale answer) keeps the larger record.
    try:
        again = cluster_record(driver.client)
        if again["workers"] >= driver.cluster["workers"]:
            driver.cluster = again
    except Exception:
        pass
    driver.stop_cluster()

    t = time.monotonic()
    kept = driver.finalize_catalog(catalog)
    driver.write_preview(kept)
    driver.timings["writeSeconds"] = round(time.monotonic() - t, 3)
    failed, total = driver.progress["failed"], driver.progress["total"]
    if failed:
        message = driver.failure_sentence()
        if failed == 1:
            message += f" (1 of {total} partitions failed)"
        message += f"; the result holds the other {total - failed}"
        e = driver.first_error
        driver.write_error(e["ename"], message, e["traceback"], e["partition"])
        return EXIT_CELL_ERROR, "partition_error", message
    return EXIT_OK, "ok", f"{total} partition(s), {driver.output_rows} rows written"


def stop_work(driver: Driver) -> None:
    """Cancel/walltime: end the running partitions now, close the cluster, keep the states."""
    driver.stop_cluster()
    for state in driver.states:
        if state["state"] == "pending":
            state["state"] = "cancelled"
    if driver.states:
        driver.write_partitions()


def local_worker_pids(client) -> list[int]:
    """Pids of the workers that are our own child processes (a local cluster's); [] remotely."""
    try:
        import psutil

        pids = set(client.run(os.getpid).values())
        return sorted(c.pid for c in psutil.Process().children(recursive=True) if c.pid in pids)
    except Exception:
        return []


def nanny_worker_pids(client) -> list[int]:
    """Worker pids as a local cluster's nannies know them now ([] for other clusters)."""
    pids = []
    for nanny in (getattr(getattr(client, "cluster", None), "workers", None) or {}).values():
        pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
        if isinstance(pid, int):
            pids.append(pid)
    return pids


def kill_child_processes(pids: list[int], log: Log) -> None:
    import psutil

    for pid in pids:
        try:
            proc = psutil.Process(pid)
            if proc.ppid() != os.getpid() and os.getpid() not in [p.pid for p in proc.parents()]:
                continue  # the pid was reused by someone else's process: leave it alone
            proc.kill()
        except psutil.Error:  # already gone
            pass
        except Exception as e:
            log.batch(f"could not stop worker process {pid}: {e}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m user_batch.catalog_run JOBDIR", file=sys.stderr)
        return EXIT_RUNNER_ERROR
    started = time.monotonic()
    jobdir = os.path.abspath(argv[0])
    if not os.path.isdir(jobdir):
        print(f"[batch] runner error: job directory {jobdir} does not exist", file=sys.stderr)
        return EXIT_RUNNER_ERROR
    write_launch(jobdir)
    log = Log()
    driver = Driver(jobdir, log)

    def on_signal(signum, _frame):
        # only a flag: the driver looks at it between steps and while partitions run
        driver.cancel_signal = signal.Signals(signum).name

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    env_thread = threading.Thread(target=write_environment, args=(jobdir,), daemon=True)
    env_thread.start()
    status = "runner_error"
    try:
        code, status, message = run(driver, started)
    except Cancelled as e:
        log.batch(f"received {e}: cancelling")
        stop_work(driver)
        code, status, message = EXIT_CANCELLED, "cancelled", "the job was cancelled"
    except Walltime:
        walltime = driver.spec.get("walltimeSeconds")
        stop_work(driver)
        message = f"The job reached its walltime of {walltime} s and was stopped."
        driver.write_error("WalltimeExceeded", message, message)
        code, status = EXIT_WALLTIME, "walltime"
    except RunnerError as e:
        message = str(e)
        log.batch(f"runner error: {message}")
        driver.write_error("RunnerError", message.split("\n", 1)[0], message)
        code = EXIT_RUNNER_ERROR
    except BaseException as e:  # last resort: still leave exit.json behind
        import traceback

        message = f"{type(e).__name__}: {e}"
        log.batch(f"runner error: {message}")
        log.write(traceback.format_exc())
        driver.write_error("RunnerError", message, traceback.format_exc())
        code, status = EXIT_RUNNER_ERROR, "runner_error"
    finally:
        driver.stop_cluster()
    driver.timings["totalSeconds"] = round(time.monotonic() - started, 3)
    if status != "cancelled":  # on cancel the proxy's grace period is short: skip hashing
        try:
            write_json_atomic(
                os.path.join(jobdir, CATALOG_PROVENANCE_JSON), driver.provenance(status)
            )
        except Exception as e:
            log.batch(f"could not write the provenance: {type(e).__name__}: {e}")
    env_thread.join(timeout=30)
    log.batch(f"exit {code} ({status}): {message.splitlines()[0] if message else ''}")
    write_exit(jobdir, code, status, message)
    return code


def run_job(jobdir: str, run: dict) -> int:
    """A catalog job from ``python -m user_batch.runner`` (every backend's entry point), with
    its run.json: a local Dask cluster (no gateway named) gets the job's CPUs and memory."""
    os.environ.setdefault("USER_BATCH_CPUS", str(run.get("cpus") or 1))
    if run.get("memoryMiB"):
        os.environ.setdefault("USER_BATCH_MEMORY_MB", str(run["memoryMiB"]))
    return main([jobdir])


if __name__ == "__main__":
    # run as the importable module, so Dask pickles run_partition and friends by reference
    from user_batch.catalog_run import main as _main

    sys.exit(_main())
