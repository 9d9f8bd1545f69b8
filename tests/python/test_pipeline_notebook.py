"""From a notebook, in one call: ``user_batch.pipelines.run_pipeline`` promotes a pipeline file
with overrides written in code, or a pipeline built in code, to a batch run through the real
JupyterLab (its jupyter-server-proxy starts the real proxy) and the real middleware.

The code runs in a Python process with the environment a kernel of that JupyterLab has
(``JPY_PARENT_PID`` = the server's pid, the notebook's folder as working directory): the helper
finds its server the way it does in a kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_jupyterlab_restart import api, free_port, start_lab, wait_for

REPO = Path(__file__).resolve().parents[2]

NOTEBOOK_CODE = textwrap.dedent(
    """
    import json
    from lsst.pipe.base import Pipeline
    from user_batch.pipelines import BatchError, run_pipeline

    out = {}
    # a file next to the notebook's folder, overrides written in code
    job = run_pipeline(
        "../pipelines/add.yaml",
        butler_repo="../butler-repo",
        input_collections="demo/raw",
        data_query="instrument='DEMO' AND detector IN (0, 1)",
        overrides={"addA.addend": 100},
    )
    out["planned"] = job.plan["totalQuanta"]
    out["file"] = {"state": job.wait(timeout=300).state, "run": job.plan["outputRun"],
                   "status": job.status()}
    # a pipeline built in code: only addA, its addend changed in code
    built = Pipeline.from_uri("../pipelines/add.yaml#addA")
    built.addConfigOverride("addA", "addend", 1000)
    job = run_pipeline(built, butler_repo="../butler-repo", input_collections=["demo/raw"],
                       data_query="instrument='DEMO' AND detector = 2", name="built in code")
    out["built"] = {"state": job.wait(timeout=300).state, "run": job.plan["outputRun"],
                    "labels": [l["label"] for l in job.plan["labels"]],
                    "file": job.job["notebookPath"]}
    # a bad query: the planner's sentence, nothing submitted
    try:
        run_pipeline("../pipelines/add.yaml", butler_repo="../butler-repo",
                     input_collections="demo/raw", data_query="detector IN (0,")
    except BatchError as err:
        out["error"] = {"message": str(err), "code": err.code}
    print(json.dumps(out))
    """
)


def test_a_notebook_promotes_a_file_with_overrides_and_a_pipeline_built_in_code(tmp_path):
    if not (REPO / "server-proxy" / "dist" / "server.js").exists():
        pytest.fail("the proxy is not built: run bin/setup")
    from user_batch.pipeline_demo import make_repo

    root, data = tmp_path / "root", tmp_path / "data"
    (root / "notebooks").mkdir(parents=True)
    (root / "pipelines").mkdir()
    data.mkdir()
    shutil.copy(REPO / "demo" / "pipelines" / "add.yaml", root / "pipelines" / "add.yaml")
    make_repo(str(root / "butler-repo"), detectors=3)

    port = free_port()
    lab = start_lab(port, root, data)
    try:
        wait_for(lambda: api(port, "/health")["ok"], "the proxy behind JupyterLab")
        env = dict(os.environ, JPY_PARENT_PID=str(lab.pid))
        done = subprocess.run(
            [sys.executable, "-c", NOTEBOOK_CODE],
            cwd=root / "notebooks",
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
        jobs = api(port, "/jobs")["jobs"]
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)

    assert out["planned"] == 4  # 2 detectors x 2 labels
    assert out["file"]["state"] == "succeeded"
    labels = {row["label"]: row["succeeded"] for row in out["file"]["status"]["progress"]["labels"]}
    assert labels == {"addA": 2, "addB": 2}
    assert out["built"]["state"] == "succeeded"
    assert out["built"]["labels"] == ["addA"]
    # the pipeline built in code was written into the Jupyter folder, where the run records it
    assert out["built"]["file"].startswith("batch-pipelines/built_in_code-")
    assert (root / out["built"]["file"]).read_text().count("addA") >= 1
    assert out["error"]["code"] == "pipeline_plan_failed"
    assert "data query" in out["error"]["message"]
    # both runs are the lab's jobs (the sidebar shows them); the refused one made none
    assert sorted(j["name"] for j in jobs) == ["add", "built in code"]

    from lsst.daf.butler import Butler

    with Butler.from_config(str(root / "butler-repo")) as butler:
        # input_array(1) is [100..104]: + 100 (the override) + 1 (addB)
        b = butler.get("demo_b", instrument="DEMO", detector=1, collections=out["file"]["run"])
        assert list(b) == [201, 202, 203, 204, 205]
        # input_array(2) is [200..204]: + 1000 (set in code)
        a = butler.get("demo_a", instrument="DEMO", detector=2, collections=out["built"]["run"])
        assert list(a) == [1200, 1201, 1202, 1203, 1204]
