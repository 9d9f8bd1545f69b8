"""The catalog job driver (``python -m user_batch.catalog_run JOBDIR``) on a real HATS catalog.

Every job runs the real driver as a subprocess, the way the proxy starts it, on a local Dask
cluster of two worker processes. Expected results are computed independently here, with pandas
over the catalog's own Parquet files and plain spherical geometry.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, process_gone
from expected_partitions import rows_inside

FUNCTION = """\
def process(df):
    out = df[df.mag < 20].copy()
    out["flux2"] = out.flux * 2
    return out
"""

CONE = {"type": "cone", "ra": 40.0, "dec": 10.0, "radiusArcsec": 3600.0}
BOX = {"type": "box", "ra": [146.0, 153.0], "dec": [-1.0, 4.5]}
# a convex quadrilateral with great-circle edges over the clump around (210, -30)
POLYGON = {
    "type": "polygon",
    "vertices": [[204.0, -35.0], [215.0, -36.0], [217.0, -25.0], [206.0, -27.0]],
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def hats_catalog(tmp_path_factory) -> Path:
    """The shared test catalog, built once per session by the committed fixture script."""
    out = tmp_path_factory.mktemp("catalog") / "synthetic"
    subprocess.run(
        [sys.executable, str(REPO / "tests/fixtures/make_catalog.py"), str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="session")
def source_rows(hats_catalog) -> pd.DataFrame:
    """Every row of the catalog, with the partition it lives in, read with pandas alone."""
    frames = []
    for f in sorted((hats_catalog / "dataset").glob("Norder=*/Dir=*/Npix=*.parquet")):
        df = pd.read_parquet(f)
        df["Norder"] = int(f.parts[-3].split("=")[1])
        df["Npix"] = int(f.stem.split("=")[1])
        frames.append(df.reset_index())
    return pd.concat(frames, ignore_index=True)


class CatalogJob:
    def __init__(self, root: Path, spec: dict):
        self.dir = root
        self.dir.mkdir(parents=True)
        self.spec = spec
        (self.dir / "catalog.json").write_text(json.dumps(spec))
        self.proc: subprocess.Popen | None = None

    def start(self, module: str = "user_batch.catalog_run") -> subprocess.Popen:
        """As the proxy starts it: own session, stdout and stderr appended to the job log."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO), env.get("PYTHONPATH")] if p)
        env["USER_BATCH_CPUS"] = "2"
        for name in list(env):  # always the local cluster here, never a gateway from the shell
            if name.startswith(("USER_BATCH_DASK_", "DASK_GATEWAY")):
                del env[name]
        with open(self.dir / "output.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", module, str(self.dir)],
                cwd=self.dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self.proc

    def execute(self, timeout: float = 120) -> int:
        self.start()
        return self.proc.wait(timeout=timeout)

    def json(self, name: str):
        return json.loads((self.dir / name).read_text())

    def log(self) -> str:
        return (self.dir / "output.log").read_text(errors="replace")

    @property
    def output(self) -> Path:
        return Path(self.spec["output"])

    def result_rows(self) -> pd.DataFrame:
        """The result catalog's rows, read from the Parquet files it lists (no lsdb)."""
        info = pd.read_csv(self.output / "partition_info.csv")
        frames = []
        for k, n in zip(info["Norder"], info["Npix"], strict=True):
            f = (
                self.output
                / "dataset"
                / f"Norder={k}"
                / f"Dir={(n // 10000) * 10000}"
                / f"Npix={n}.parquet"
            )
            frames.append(pd.read_parquet(f).reset_index())
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@pytest.fixture(scope="module")
def make_catalog_job(tmp_path_factory, hats_catalog):
    jobs: list[CatalogJob] = []

    def make(function: str = FUNCTION, **spec) -> CatalogJob:
        root = tmp_path_factory.mktemp("catalog-job")
        full = {
            "jobId": f"cat{len(jobs)}",
            "catalog": str(hats_catalog),
            "region": None,
            "columns": None,
            "function": {"name": "process", "source": function},
            "partitions": None,
            "output": str(root / "job" / "outputs" / "result"),
            "outputName": "result",
            "previewRows": 20,
        }
        full.update(spec)
        job = CatalogJob(root / "job", full)
        jobs.append(job)
        return job

    yield make
    for job in jobs:  # never leave a driver (and its cluster) behind, even when a test failed
        if job.proc is not None and job.proc.poll() is None:
            os.killpg(job.proc.pid, signal.SIGKILL)
            job.proc.wait()


@pytest.fixture(scope="module")
def cone_job(make_catalog_job):
    job = make_catalog_job(region=CONE)
    started = time.monotonic()
    job.code = job.execute()
    job.seconds = time.monotonic() - started
    return job


# --------------------------------------------------------------------------- expectations


def in_cone(df: pd.DataFrame, region: dict) -> pd.Series:
    ra, dec = np.radians(df["ra"]), np.radians(df["dec"])
    ra0, dec0 = np.radians(region["ra"]), np.radians(region["dec"])
    cos_sep = np.sin(dec) * np.sin(dec0) + np.cos(dec) * np.cos(dec0) * np.cos(ra - ra0)
    return np.degrees(np.arccos(np.clip(cos_sep, -1, 1))) * 3600 < region["radiusArcsec"]


def in_box(df: pd.DataFrame, region: dict) -> pd.Series:
    (ra_lo, ra_hi), (dec_lo, dec_hi) = region["ra"], region["dec"]
    return df["ra"].between(ra_lo, ra_hi) & df["dec"].between(dec_lo, dec_hi)


def expected_result(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows[rows["mag"] < 20].copy()
    out["flux2"] = out["flux"] * 2
    return out


def assert_same_rows(result: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(expected) > 0, "the test region should select some rows"
    assert sorted(result["id"]) == sorted(expected["id"])
    got = result.set_index("id").sort_index()
    want = expected.set_index("id").sort_index()
    for col in ("ra", "dec", "mag", "flux", "flux2", "_healpix_29"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy(), err_msg=col)
    assert list(got["band"].astype(str)) == list(want["band"].astype(str))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- tests


def test_cone_job_result_is_exactly_the_pandas_result(cone_job, source_rows):
    assert cone_job.code == 0, cone_job.log()
    expected = expected_result(source_rows[in_cone(source_rows, CONE)])
    assert_same_rows(cone_job.result_rows(), expected)
    # and it is a HATS catalog that lsdb reads back
    import lsdb

    back = lsdb.open_catalog(cone_job.output).compute(progress_bar=False)
    assert sorted(back["id"]) == sorted(expected["id"])
    assert "flux2" in back.columns
    exit_ = cone_job.json("exit.json")
    assert exit_["exitCode"] == 0 and exit_["reason"] == "ok"


def test_box_job_result_is_exactly_the_pandas_result(make_catalog_job, source_rows):
    # a plan that disagrees with LSDB's selection: LSDB's is run, both are recorded
    plan = [{"order": 0, "pixel": 0}]
    job = make_catalog_job(region=BOX, columns=["id", "mag", "flux", "band"], partitions=plan)
    assert job.execute() == 0, job.log()
    expected = expected_result(source_rows[in_box(source_rows, BOX)])
    assert_same_rows(job.result_rows(), expected)
    prov = job.json("catalog-provenance.json")["partitions"]
    assert prov["planned"] == plan and prov["agree"] is False
    assert prov["actual"] == [
        {"order": p["order"], "pixel": p["pixel"]} for p in job.json("partitions.json")
    ]
    assert "differs from LSDB's selection" in job.log()


def test_polygon_job_result_is_exactly_the_pandas_result(make_catalog_job, source_rows):
    # lsst-sphgeom (the catalog extra) gives lsdb its polygon search
    job = make_catalog_job(region=POLYGON)
    assert job.execute() == 0, job.log()
    inside = rows_inside(POLYGON, source_rows["ra"].to_numpy(), source_rows["dec"].to_numpy())
    expected = expected_result(source_rows[inside])
    assert_same_rows(job.result_rows(), expected)
    assert len(expected) < len(expected_result(source_rows)), "the polygon should leave rows out"
    assert job.json("catalog-provenance.json")["region"] == POLYGON
    assert job.json("exit.json")["reason"] == "ok"


def test_progress_and_partition_list_are_complete(cone_job, hats_catalog):
    import lsdb

    pixels = (
        lsdb.open_catalog(hats_catalog)
        .cone_search(CONE["ra"], CONE["dec"], CONE["radiusArcsec"])
        .get_healpix_pixels()
    )
    total = len(pixels)
    assert total >= 2
    assert cone_job.json("progress.json") == {"total": total, "done": total, "failed": 0}
    parts = cone_job.json("partitions.json")
    assert [(p["order"], p["pixel"]) for p in parts] == [
        (int(p.order), int(p.pixel)) for p in pixels
    ]
    assert all(p["state"] == "done" and p["error"] is None for p in parts)
    assert sum(p["rows"] for p in parts) == len(cone_job.result_rows())
    log = cone_job.log()
    assert f"partition {total}/{total} (Norder=" in log
    assert "[batch] exit 0 (ok)" in log


def test_preview_is_an_arrow_file_with_the_first_rows(cone_job):
    import pyarrow.ipc as ipc

    table = ipc.open_file(cone_job.dir / "preview.arrow").read_all()
    total = len(cone_job.result_rows())
    assert table.num_rows == min(20, total)
    meta = cone_job.json("preview.json")
    assert meta == {"columns": table.schema.names, "rows": table.num_rows, "totalRows": total}
    for col in ("id", "ra", "dec", "mag", "flux", "band", "flux2"):
        assert col in table.schema.names
    assert set(table.column("id").to_pylist()) <= set(cone_job.result_rows()["id"])


def test_provenance_lists_every_output_file_with_its_sha256(cone_job, hats_catalog):
    prov = cone_job.json("catalog-provenance.json")
    files = {f["path"]: f for f in prov["output"]["files"]}
    on_disk = {
        str(p.relative_to(cone_job.output)) for p in cone_job.output.rglob("*") if p.is_file()
    }
    assert set(files) == on_disk
    assert "partition_info.csv" in files and "hats.properties" in files
    for rel, entry in files.items():
        path = cone_job.output / rel
        assert entry["sha256"] == sha256(path), rel
        assert entry["size"] == path.stat().st_size
    assert prov["catalog"]["path"] == str(hats_catalog)
    assert prov["catalog"]["properties"]["hats_col_ra"] == "ra"
    assert prov["region"] == CONE
    assert prov["function"]["source"] == FUNCTION
    assert prov["function"]["sha256"] == hashlib.sha256(FUNCTION.encode()).hexdigest()
    assert prov["dask"]["workers"] == 2 and prov["dask"]["schedulerAddressType"] == "tcp"
    assert prov["dask"]["versions"]["lsdb"] and prov["dask"]["versions"]["distributed"]
    assert len(prov["partitions"]["actual"]) == prov["counts"]["total"]


def test_a_failing_partition_is_named_and_the_others_are_written(make_catalog_job, source_rows):
    # the partition with the most rows fails; the function takes (df, pixel)
    k, n = source_rows.groupby(["Norder", "Npix"]).size().idxmax()
    function = (
        f"def process(df, pixel):\n"
        f"    if (pixel.order, pixel.pixel) == ({k}, {n}):\n"
        f"        return 1 / 0\n"
        f"    out = df[df.mag < 20].copy()\n"
        f"    out['flux2'] = out.flux * 2\n"
        f"    return out\n"
    )
    job = make_catalog_job(function=function)
    assert job.execute() == 1, job.log()
    error = job.json("error.json")
    assert error["ename"] == "ZeroDivisionError"
    assert f"partition Norder={k} Npix={n} failed: ZeroDivisionError" in error["evalue"]
    assert "1 of " in error["evalue"]
    assert "return 1 / 0" in error["traceback"] and "line 3" in error["traceback"]
    assert error["partition"] == {"order": k, "pixel": n}
    progress = job.json("progress.json")
    assert progress["failed"] == 1 and progress["done"] == progress["total"] - 1
    failed = [p for p in job.json("partitions.json") if p["state"] == "failed"]
    assert [(p["order"], p["pixel"]) for p in failed] == [(k, n)]
    assert "ZeroDivisionError" in failed[0]["error"]["traceback"]
    others = source_rows[(source_rows["Norder"] != k) | (source_rows["Npix"] != n)]
    assert_same_rows(job.result_rows(), expected_result(others))
    exit_ = job.json("exit.json")
    assert exit_["exitCode"] == 1 and exit_["reason"] == "partition_error"
    assert f"Norder={k} Npix={n}" in exit_["message"]


def test_a_result_without_coordinates_fails_with_a_clear_message(make_catalog_job):
    job = make_catalog_job(function="def process(df):\n    return df[['id', 'mag']]\n", region=CONE)
    assert job.execute() == 1, job.log()
    error = job.json("error.json")
    assert "must keep the columns 'ra' and 'dec'" in error["evalue"]
    assert job.json("progress.json")["done"] == 0


def test_a_syntax_error_names_the_line(make_catalog_job):
    job = make_catalog_job(function="def process(df):\n    x = = 1\n    return df\n")
    assert job.execute(timeout=60) == 2, job.log()
    error = job.json("error.json")
    assert "function process has a syntax error at line 2" in error["evalue"]
    assert job.json("exit.json")["reason"] == "runner_error"
    assert not (job.dir / "progress.json").exists()


def test_a_missing_catalog_is_a_driver_error(make_catalog_job, tmp_path):
    job = make_catalog_job(catalog=str(tmp_path / "nowhere"))
    assert job.execute(timeout=60) == 2
    assert "does not exist" in job.json("error.json")["evalue"]


def test_the_runner_entry_point_hands_a_catalog_job_to_the_driver(make_catalog_job, tmp_path):
    """Every backend starts ``python -m user_batch.runner JOBDIR``: run.json's kind picks the
    catalog driver, whose error.json names the partition (here none: the catalog is missing)."""
    job = make_catalog_job(catalog=str(tmp_path / "nowhere"))
    run = {"jobId": job.spec["jobId"], "kind": "catalog", "cpus": 1, "memoryMiB": 2048}
    (job.dir / "run.json").write_text(json.dumps(run))
    assert job.start(module="user_batch.runner").wait(timeout=60) == 2, job.log()
    error = job.json("error.json")
    assert "does not exist" in error["evalue"] and error["partition"] is None
    assert job.json("exit.json")["reason"] == "runner_error"


def test_walltime_stops_the_job_and_its_cluster(make_catalog_job):
    # 1 s: over before the partitions are even handed to Dask, so the test stays fast
    job = make_catalog_job(walltimeSeconds=1)
    proc = job.start()
    assert proc.wait(timeout=90) == 124, job.log()
    exit_ = job.json("exit.json")
    assert exit_["reason"] == "walltime"
    error = job.json("error.json")
    assert error["ename"] == "WalltimeExceeded" and "walltime of 1 s" in error["evalue"]
    deadline = time.monotonic() + 5
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_members(proc.pid) == [], "processes of the job are left behind"


def worker_pids(pid: int) -> list[int]:
    """The driver's local Dask worker processes (multiprocessing spawn children)."""
    import psutil

    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child.pid)
        except psutil.Error:
            pass
    return found


def group_members(pgid: int) -> list[int]:
    """Live processes in process group ``pgid`` (the job's session: driver, workers, helpers)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            pass
    return found


@pytest.mark.parametrize("target", ["driver", "group"])
def test_sigterm_stops_the_work_and_the_cluster(make_catalog_job, target):
    """``driver``: only the driver gets SIGTERM, it must stop its cluster itself; ``group``:
    as the proxy cancels, the whole process group gets it (the nannies restart the workers)."""
    job = make_catalog_job(function="def process(df):\n    time.sleep(120)\n    return df\n")
    job.spec["function"]["setupSource"] = "import time"
    (job.dir / "catalog.json").write_text(json.dumps(job.spec))
    proc = job.start()
    deadline = time.monotonic() + 90
    while "partition(s) of" not in job.log():  # the partitions have been handed to Dask
        assert proc.poll() is None, job.log()
        assert time.monotonic() < deadline, job.log()
        time.sleep(0.2)
    time.sleep(1.5)  # the workers are inside time.sleep now
    workers = worker_pids(proc.pid)
    assert len(workers) == 2, job.log()
    assert job.json("progress.json")["done"] == 0
    if target == "driver":
        os.kill(proc.pid, signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
    started = time.monotonic()
    assert proc.wait(timeout=15) == 143, job.log()
    assert time.monotonic() - started < 6, "the proxy SIGKILLs the group after 6 s"
    assert job.json("exit.json")["reason"] == "cancelled"
    for pid in workers:
        assert process_gone(pid, within=5), f"worker {pid} still runs"
    deadline = time.monotonic() + 5
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_members(proc.pid) == [], "processes of the job are left behind"
    states = {p["state"] for p in job.json("partitions.json")}
    assert states == {"cancelled"}
