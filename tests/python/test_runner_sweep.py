"""Parameter sweeps in the runner: ``--item N`` (one HTCondor proc) and ``--sweep`` (the local
backend, every item in turn), with a real kernel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conftest import REPO, process_gone

CELLS = [
    {"id": "setup-1", "role": "setup", "source": "import os"},
    {
        "id": "main-1",
        "role": "main",
        "source": "if band == 'bad':\n    raise ValueError('no such band')\n"
        "print('band', band, 'threshold', threshold, 'item', os.environ.get('BATCH_SWEEP_ITEM'))\n"
        "open(os.path.join(os.environ['BATCH_OUTPUT_DIR'], 'band.txt'), 'w').write(band)\n"
        "import time; time.sleep(nap)",
    },
]


def run_runner(job, *args, wait=True):
    job.out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with open(job.dir / "output.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "user_batch.runner", str(job.dir), *args],
            cwd=job.out,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    job.proc = proc
    return proc.wait(timeout=120) if wait else proc


def sweep_job(make_job, items, nap=0):
    job = make_job(cells=CELLS, parameters={"band": "g", "threshold": 0.5, "nap": nap})
    (job.dir / "sweep.json").write_text(json.dumps(items))
    return job


def test_one_item_runs_with_its_values_over_the_parameters_in_its_own_folders(make_job):
    job = sweep_job(make_job, [{"band": "r"}, {"band": "i", "threshold": 2}])
    assert run_runner(job, "--item", "1") == 0, job.log()
    item = job.dir / "items" / "1"
    assert json.loads((item / "exit.json").read_text())["reason"] == "ok"
    assert json.loads((item / "progress.json").read_text()) == {"total": 2, "done": 2, "failed": 0}
    assert (item / "launch.json").exists() and (item / "env.json").exists()
    assert "band i threshold 2 item 1" in job.log()
    assert (job.out / "item-1" / "band.txt").read_text() == "i"
    assert (job.out / "item-1" / "analysis.ipynb").exists()
    # nothing of the item lands in the job's own seam files
    assert not (job.dir / "exit.json").exists() and not (job.dir / "items" / "0").exists()


def test_an_item_that_does_not_exist_is_a_runner_error(make_job):
    job = sweep_job(make_job, [{"band": "r"}])
    assert run_runner(job, "--item", "5") == 2
    err = json.loads((job.dir / "items" / "5" / "error.json").read_text())
    assert "sweep item 5 does not exist (the sweep has 1)" in err["evalue"]


def test_whole_sweep_runs_every_item_and_names_the_failed_one(make_job):
    job = sweep_job(make_job, [{"band": "r"}, {"band": "bad"}, {"band": "z", "threshold": 3}])
    assert run_runner(job, "--sweep") == 1, job.log()
    assert json.loads((job.dir / "progress.json").read_text()) == {
        "total": 3,
        "done": 2,
        "failed": 1,
        "items": "dfd",
    }
    exit_ = json.loads((job.dir / "exit.json").read_text())
    assert exit_["reason"] == "items_failed"
    assert exit_["message"].startswith(
        "1 of 3 sweep items failed (item 1); item 1: ValueError: no such band"
    )
    err = json.loads((job.dir / "error.json").read_text())
    assert err["ename"] == "ValueError" and err["evalue"] == "(sweep item 1) no such band"
    assert err["cellId"] == "main-1"
    assert [(job.out / f"item-{n}" / "band.txt").read_text() for n in (0, 2)] == ["r", "z"]
    log = job.log()
    assert log.index("band r") < log.index("no such band") < log.index("band z threshold 3 item 2")


def test_sigterm_cancels_the_sweep_and_no_later_item_starts(make_job):
    job = sweep_job(make_job, [{"band": "r"}, {"band": "i"}, {"band": "z"}], nap=30)
    proc = run_runner(job, "--sweep", wait=False)
    deadline = time.monotonic() + 60
    while "band r" not in job.log():
        assert time.monotonic() < deadline and proc.poll() is None, job.log()
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    progress = json.loads((job.dir / "progress.json").read_text())
    assert progress["items"] == "ccc" and progress["done"] == 0
    assert json.loads((job.dir / "exit.json").read_text())["reason"] == "cancelled"
    assert not (job.dir / "items" / "1").exists()
    kernel_pgid = json.loads((job.dir / "items" / "0" / "launch.json").read_text()).get(
        "kernelPgid"
    )
    assert kernel_pgid and process_gone(kernel_pgid)
