"""The job runner, run for real as ``python -m user_batch.runner JOBDIR`` with a real kernel."""

from __future__ import annotations

import ast
import json
import signal
import time

import nbformat
import pytest

from conftest import REPO, outputs_text, process_gone
from user_batch import jobfiles
from user_batch.jobdir import RunnerError
from user_batch.notebook_build import parameters_source, python_literal

ANSI = "\x1b["


def test_cells_job_with_parameters_figure_magic_shell_and_local_module(make_job):
    job = make_job(
        cells=[
            {
                "id": "setup-1",
                "role": "setup",
                "source": "import matplotlib.pyplot as plt\nthreshold = 0.0\nband = 'g'",
            },
            {
                "id": "main-1",
                "role": "main",
                "source": "print('threshold is', threshold, 'band is', band)\nthreshold * 2",
            },
            {
                "id": "main-2",
                "role": "main",
                "source": "%%time\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\nplt.show()",
            },
            {"id": "main-3", "role": "main", "source": "!echo shell-escape-works"},
            {
                "id": "main-4",
                "role": "main",
                "source": "import os, localmod\nprint(localmod.WHO)\n"
                "open(os.path.join(os.environ['BATCH_OUTPUT_DIR'], 'out.txt'), 'w')"
                ".write(os.getcwd())",
            },
        ],
        parameters={"threshold": 0.5, "band": "r", "opts": {"k": [1, None, True]}},
    )
    (job.nbdir / "localmod.py").write_text("WHO = 'local module imported'\n")
    assert job.execute() == 0, job.log()

    assert job.json("exit.json")["reason"] == "ok"
    assert job.json("exit.json")["exitCode"] == 0
    assert job.json("progress.json") == {"total": 5, "done": 5, "failed": 0}
    assert not (job.dir / "error.json").exists()
    launch = job.json("launch.json")
    assert launch["pid"] == job.proc.pid and launch["pgid"] == job.proc.pid
    assert launch["startedAt"].endswith("Z")
    env = job.json("env.json")
    names = [p["name"] for p in env["packages"]]
    assert "nbclient" in names and names == sorted(names, key=str.lower)
    assert env["python"]["version"] and env["host"] and env["platform"]

    nb = job.notebook()
    assert [c.id for c in nb.cells] == [
        "setup-1",
        "injected-parameters",
        "main-1",
        "main-2",
        "main-3",
        "main-4",
    ]
    injected = nb.cells[1]
    assert injected.metadata["tags"] == ["injected-parameters"]
    assert "threshold = 0.5\nband = 'r'\nopts = {'k': [1, None, True]}" in injected.source
    assert [c.metadata["user_batch"]["role"] for c in nb.cells] == [
        "setup",
        "parameters",
        "main",
        "main",
        "main",
        "main",
    ]
    assert "threshold is 0.5 band is r" in outputs_text(nb.cells[2])
    assert "1.0" in outputs_text(nb.cells[2])
    figure_cell = nb.cells[3]
    assert any("image/png" in o.get("data", {}) for o in figure_cell.outputs)
    assert "Wall time" in outputs_text(figure_cell)
    assert "shell-escape-works" in outputs_text(nb.cells[4])
    assert "local module imported" in outputs_text(nb.cells[5])
    assert (job.out / "out.txt").read_text() == str(job.out)  # cwd is the output folder

    log = job.log()
    for cid in ["setup-1", "main-1", "main-2", "main-3", "main-4"]:
        assert f"[cell {cid}] started" in log
    assert log.index("[cell main-1] started") < log.index("threshold is 0.5")
    assert log.index("threshold is 0.5") < log.index("[cell main-2] started")
    assert "shell-escape-works" in log and ANSI not in log


def test_failing_cell_stops_the_job_and_keeps_the_partial_notebook(make_job):
    job = make_job(
        cells=[
            {"id": "ok-cell", "role": "main", "source": "print('before the error')"},
            {
                "id": "bad-cell",
                "role": "main",
                "source": "def f():\n    raise ValueError('bad value 42')\nf()",
            },
            {"id": "after-cell", "role": "main", "source": "print('must not run')"},
        ]
    )
    assert job.execute() == jobfiles.EXIT_CELL_ERROR, job.log()
    assert job.json("exit.json")["reason"] == "cell_error"
    assert job.json("exit.json")["exitCode"] == 1
    error = job.json("error.json")
    assert error["cellId"] == "bad-cell"
    assert error["ename"] == "ValueError" and error["evalue"] == "bad value 42"
    assert "raise ValueError" in error["traceback"] and ANSI not in error["traceback"]
    assert job.json("progress.json") == {"total": 3, "done": 1, "failed": 1}

    nb = job.notebook()
    assert "before the error" in outputs_text(nb.cells[0])
    assert any(o.output_type == "error" for o in nb.cells[1].outputs)
    assert nb.cells[2].outputs == [] and nb.cells[2].execution_count is None
    log = job.log()
    assert "ValueError: bad value 42" in log and "must not run" not in log and ANSI not in log


def test_walltime_kills_the_kernel_and_its_children(make_job):
    job = make_job(
        walltimeSeconds=8,
        cells=[
            {
                "id": "slow",
                "role": "main",
                "source": (
                    "import os, subprocess, time\n"
                    "child = subprocess.Popen(['sleep', '300'])\n"
                    "open('pids', 'w').write(f'{os.getpid()} {child.pid}')\n"
                    "print('working', flush=True)\n"
                    "time.sleep(120)\n"
                ),
            }
        ],
    )
    t0 = time.monotonic()
    code = job.execute(timeout=30)
    elapsed = time.monotonic() - t0
    assert code == jobfiles.EXIT_WALLTIME, job.log()
    assert 7.5 <= elapsed < 14, elapsed  # leaves room for a slow kernel start
    assert job.json("exit.json")["reason"] == "walltime"
    assert job.json("exit.json")["exitCode"] == 124
    assert job.json("error.json")["cellId"] == "slow"
    assert job.json("error.json")["ename"] == "WalltimeExceeded"
    assert job.json("progress.json") == {"total": 1, "done": 0, "failed": 1}
    assert "DeadKernelError" not in job.log()
    kernel_pid, child_pid = map(int, (job.out / "pids").read_text().split())
    assert job.json("launch.json")["kernelPgid"] == kernel_pid
    assert process_gone(kernel_pid), "kernel survived the walltime"
    assert process_gone(child_pid), "a process started by the kernel survived the walltime"
    nb = job.notebook()
    assert "working" in outputs_text(nb.cells[0])
    assert "walltime" in outputs_text(nb.cells[0])


def test_notebook_kind_injects_after_the_parameters_cell(make_job):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Analysis"),
        nbformat.v4.new_code_cell("offset = 100"),
        nbformat.v4.new_code_cell(
            "alpha = 0.1\nlabel = 'default'", metadata={"tags": ["parameters"]}
        ),
        nbformat.v4.new_code_cell("print('result', alpha + offset, label)"),
    ]
    ids = [c.id for c in nb.cells]
    job = make_job(
        kind="notebook",
        inputNotebook="input.ipynb",
        cells=None,
        parameters={"alpha": 0.9, "label": 'it\'s "quoted"\nnewline'},
    )
    nbformat.write(nb, job.dir / "input.ipynb")
    assert job.execute() == 0, job.log()

    out = job.notebook()
    assert [c.id for c in out.cells] == ids[:3] + ["injected-parameters"] + ids[3:]
    assert out.cells[3].metadata["tags"] == ["injected-parameters"]
    assert 'result 100.9 it\'s "quoted"\nnewline' in outputs_text(out.cells[4])
    assert job.json("progress.json") == {"total": 3, "done": 3, "failed": 0}
    assert f"[cell {ids[3]}] started" in job.log()


def test_output_is_streamed_live_and_sigterm_cancels(make_job):
    job = make_job(
        cells=[
            {
                "id": "ticker",
                "role": "main",
                "source": (
                    "import os, time\nopen('kernel.pid', 'w').write(str(os.getpid()))\n"
                    "print('tick-1', flush=True)\ntime.sleep(60)\nprint('tick-2')"
                ),
            }
        ]
    )
    proc = job.start()
    deadline = time.monotonic() + 30
    while "tick-1" not in job.log():
        assert proc.poll() is None, job.log()
        assert time.monotonic() < deadline, job.log()
        time.sleep(0.1)
    assert proc.poll() is None  # the cell is still running: the log grew live
    time.sleep(0.5)
    assert "[cell ticker] started" in job.log() and "tick-2" not in job.log()

    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert job.wait(timeout=15) == jobfiles.EXIT_CANCELLED
    assert time.monotonic() - t0 < 8
    assert job.json("exit.json")["reason"] == "cancelled"
    assert not (job.dir / "error.json").exists()  # cancelled, not failed
    assert process_gone(int((job.out / "kernel.pid").read_text()))
    nb = job.notebook()
    assert "tick-1" in outputs_text(nb.cells[0]) and "tick-2" not in outputs_text(nb.cells[0])


@pytest.mark.parametrize("name", ["x=1\nimport os", "class"])
def test_parameter_names_that_are_not_identifiers_are_rejected(make_job, name):
    job = make_job(
        cells=[{"id": "m", "role": "main", "source": "open('ran', 'w')"}], parameters={name: 1}
    )
    assert job.execute() == jobfiles.EXIT_RUNNER_ERROR, job.log()
    assert job.json("exit.json")["reason"] == "runner_error"
    error = job.json("error.json")
    assert "invalid parameter name" in error["evalue"]
    assert "invalid parameter name" in job.log()
    assert not (job.out / "ran").exists()


def test_bad_run_json_is_a_runner_error(make_job):
    job = make_job()
    (job.dir / "run.json").write_text("{not json")
    assert job.execute() == jobfiles.EXIT_RUNNER_ERROR
    assert job.json("exit.json")["reason"] == "runner_error"
    assert "run.json is not valid JSON" in job.json("error.json")["evalue"]
    assert job.json("launch.json")["pid"] == job.proc.pid


def test_unknown_kernel_is_a_runner_error(make_job):
    job = make_job(kernelName="no-such-kernel", cells=[{"id": "m", "role": "main", "source": "1"}])
    assert job.execute() == jobfiles.EXIT_RUNNER_ERROR
    assert job.json("exit.json")["reason"] == "runner_error"
    assert "no-such-kernel" in job.json("error.json")["evalue"]
    assert "failed to start" in job.log()


def test_parameter_values_become_python_literals():
    values = {
        "s": "a'b\"c\n\\",
        "i": 10**30,
        "f": 0.1,
        "b": False,
        "n": None,
        "l": [1, "x", [2.5]],
        "d": {"k": {"z": [True]}},
    }
    source = parameters_source(values)
    namespace: dict = {}
    for line in source.splitlines()[1:]:
        name, literal = line.split(" = ", 1)
        namespace[name] = ast.literal_eval(literal)
    assert namespace == values
    assert python_literal(float("nan")) == "float('nan')"
    for bad in ["x=1\nimport os", "class", "None", "1abc", "a b", "", "x;y", 3]:
        with pytest.raises(RunnerError, match="invalid parameter name"):
            parameters_source({bad: 1})
    assert json.loads(json.dumps(values)) == namespace


def test_demo_notebook_batch_cells_run_with_parameters(make_job):
    """demo/Demo.ipynb: setup cells + the cells tagged `batch`, as the lab extension sends them."""
    demo = nbformat.read(REPO / "demo" / "Demo.ipynb", as_version=4)
    nbformat.validate(demo)
    code = [c for c in demo.cells if c.cell_type == "code"]
    setup = [
        c for c in code if c.id == "setup-imports" or "parameters" in c.metadata.get("tags", [])
    ]
    batch = [c for c in code if "batch" in c.metadata.get("tags", [])]
    assert len(setup) == 2 and len(batch) >= 3
    job = make_job(
        parameters={"n_objects": 250, "band": "i"},
        cells=(
            [{"id": c.id, "role": "setup", "source": c.source} for c in setup]
            + [{"id": c.id, "role": "main", "source": c.source} for c in batch]
        ),
    )
    assert job.execute() == 0, job.log()
    assert len((job.out / "catalog.csv").read_text().splitlines()) == 251
    assert (job.out / "histogram.png").read_bytes()[:4] == b"\x89PNG"
    nb = job.notebook()
    hist = next(c for c in nb.cells if c.id == "histogram")
    assert any("image/png" in o.get("data", {}) for o in hist.outputs)


def test_relative_paths_see_the_files_next_to_the_notebook_and_new_files_stay_with_the_job(
    make_job,
):
    job = make_job(
        cells=[
            {"id": "read", "role": "main", "source": "print(open('a/b/data.txt').read())"},
            {
                "id": "new",
                "role": "main",
                "source": "open('new.txt', 'w').write('made by the job')",
            },
            {"id": "rewrite", "role": "main", "source": "open('old.csv', 'w').write('rewritten')"},
        ]
    )
    (job.nbdir / "a" / "b").mkdir(parents=True)
    (job.nbdir / "a" / "b" / "data.txt").write_text("next to the notebook")
    (job.nbdir / "old.csv").write_text("before")
    # the notebook itself sits there too: the executed copy must never be written through a link
    (job.nbdir / "analysis.ipynb").write_text("the user's own notebook")

    assert job.execute() == jobfiles.EXIT_OK, job.log()
    assert "next to the notebook" in job.log()
    assert (job.out / "new.txt").read_text() == "made by the job"
    # the rewritten file is next to the notebook (as interactively) and with the job's outputs
    assert (job.nbdir / "old.csv").read_text() == "rewritten"
    assert (job.out / "old.csv").read_text() == "rewritten"
    assert "copied into the outputs: old.csv" in job.log()
    # no link is left in the outputs, and the user's notebook is untouched
    assert not [p for p in job.out.rglob("*") if p.is_symlink()]
    assert not (job.out / "a").exists()
    assert (job.nbdir / "analysis.ipynb").read_text() == "the user's own notebook"
    assert job.notebook().cells  # the executed notebook, a real file in the outputs


def test_a_missing_file_says_where_the_job_ran_and_what_it_sees(make_job):
    job = make_job(cells=[{"id": "c1", "role": "main", "source": "open('a/missing.txt')"}])
    assert job.execute() == jobfiles.EXIT_CELL_ERROR, job.log()
    error = job.json("error.json")
    assert error["ename"] == "FileNotFoundError"
    assert "a/missing.txt" in error["evalue"]
    assert "ran in its output folder" in error["evalue"] and str(job.nbdir) in error["evalue"]
