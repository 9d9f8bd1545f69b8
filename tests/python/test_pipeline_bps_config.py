"""The BPS submit config made from a pipeline job (user_batch.pipeline_bps.bps_config), read
back by BPS's own config class: what BPS will see is what the job asked for."""

from __future__ import annotations

import pytest
import yaml
from lsst.ctrl.bps import BpsConfig

from user_batch.jobdir import RunnerError
from user_batch.pipeline_bps import bps_config, write_config

# every character here means something to YAML (mapping, comment, quote, flow, anchor, tag)
TRICKY_COLLECTION = 'u/o\'brien: #1 [x] & *y !z "q"'
TRICKY_LABEL = "add-1"


def make(tmp_path, plan_labels=None, **changes):
    spec = {
        "jobId": "j1",
        "engine": "bps",
        "butlerRepo": str(tmp_path / "repo"),
        "pipeline": str(tmp_path / "p.yaml"),
        "labels": None,
        "inputCollections": ["demo/raw", TRICKY_COLLECTION],
        "outputCollection": "u/ann/out",
        "outputRun": "u/ann/out/r1",
        "dataQuery": "instrument='DEMO' AND detector IN (0, 1)",
        "configOverrides": [],
        "configFiles": [],
        "cpus": 1,
        "walltimeSeconds": 600,
        "account": "astro",
        "user": "ann",
    }
    spec.update(changes)
    plan = {
        "outputCollection": spec["outputCollection"],
        "outputRun": spec["outputRun"],
        "inputCollections": spec["inputCollections"],
        "dataQuery": spec["dataQuery"],
        "labels": plan_labels or [{"label": TRICKY_LABEL, "taskClass": "x.AddTask", "quanta": 3}],
        "totalQuanta": 3,
    }
    run = {"cpus": 2, "memoryMiB": 3000, "walltimeSeconds": 600}
    jobdir = tmp_path / "job"
    jobdir.mkdir(exist_ok=True)
    return bps_config(str(jobdir), spec, plan, run, "/venv/bin"), jobdir


def test_bps_reads_the_graph_account_user_and_resources_of_the_job(tmp_path):
    config, jobdir = make(tmp_path)
    path = write_config(str(jobdir), config)
    bps = BpsConfig(path)
    assert bps["qgraphFile"] == str(jobdir / "pipeline.qg")
    assert bps["accountingGroup"] == "astro"
    assert bps["accountingUser"] == "ann"
    assert bps["operator"] == "ann"
    assert bps["requestCpus"] == 2 and bps["requestMemory"] == 3000
    assert bps["payload"]["outputRun"] == "u/ann/out/r1"
    assert bps["payload"]["output"] == "u/ann/out"
    assert bps["submitPath"] == str(jobdir / "bps-submit")
    assert bps["wmsServiceClass"] == "lsst.ctrl.bps.htcondor.HTCondorService"
    # the final job fits a small pool (BPS asks 16 CPUs / 32 GiB by default)
    assert bps["finalJob"]["requestCpus"] == 1
    assert bps["finalJob"]["requestMemory"] <= 3000


def test_yaml_special_characters_stay_data(tmp_path):
    config, jobdir = make(tmp_path, labels=[TRICKY_LABEL])
    path = write_config(str(jobdir), config)
    with open(path, encoding="utf-8") as f:
        assert yaml.safe_load(f) == config
    bps = BpsConfig(path)
    assert bps["payload"]["inCollection"] == f"demo/raw,{TRICKY_COLLECTION}"
    assert bps["payload"]["dataQuery"] == "instrument='DEMO' AND detector IN (0, 1)"
    assert bps["pipelineYaml"] == f"{tmp_path / 'p.yaml'}#{TRICKY_LABEL}"


def test_commands_are_bps_own_with_the_venv_tools(tmp_path):
    config, _ = make(tmp_path)
    init = config["pipetask"]["pipetaskInit"]["runQuantumCommand"]
    assert init.startswith("/venv/bin/pipetask ") and "pre-exec-init-qbb" in init
    assert config["runQuantumCommand"].startswith("/venv/bin/pipetask ")
    assert "run-qbb" in config["runQuantumCommand"]
    assert config["finalJob"]["command1"].startswith("/venv/bin/butler ")
    assert "aggregate-graph" in config["finalJob"]["command1"]
    assert not any(
        "${" in c for c in (init, config["runQuantumCommand"], config["updateQuantumGraph"])
    )


@pytest.mark.parametrize("field", ["outputRun", "outputCollection"])
def test_a_name_bps_would_read_as_a_variable_is_refused_with_a_sentence(tmp_path, field):
    with pytest.raises(RunnerError, match=r"BPS reads as a variable: rename it"):
        make(tmp_path, **{field: "u/ann/{operator}"})


def test_without_account_or_user_bps_gets_no_accounting(tmp_path):
    config, _ = make(tmp_path, account=None, user=None)
    assert "accountingGroup" not in config and "accountingUser" not in config


def test_cluster_dimensions_make_one_cluster_over_every_label(tmp_path):
    config, jobdir = make(tmp_path, clusterDimensions=["detector"])
    bps = BpsConfig(write_config(str(jobdir), config))
    assert bps["clusterAlgorithm"].endswith("quantum_clustering_funcs.dimension_clustering")
    assert bps["cluster"]["clustered"]["pipetasks"] == TRICKY_LABEL
    assert bps["cluster"]["clustered"]["dimensions"] == "detector"
    unclustered, _ = make(tmp_path)
    assert "cluster" not in unclustered and "clusterAlgorithm" not in unclustered


def test_only_labels_with_the_cluster_dimensions_are_clustered(tmp_path):
    per_detector = {"taskClass": "x.AddTask", "quanta": 3, "dimensions": ["detector", "instrument"]}
    per_instrument = {"taskClass": "x.Sum", "quanta": 1, "dimensions": ["instrument"]}
    labels = [
        {"label": "addA", **per_detector},
        {"label": "addB", **per_detector},
        {"label": "sum", **per_instrument},
    ]
    config, jobdir = make(tmp_path, plan_labels=labels, clusterDimensions=["detector"])
    bps = BpsConfig(write_config(str(jobdir), config))
    assert bps["cluster"]["clustered"]["pipetasks"] == "addA,addB"
    # a site setting no label can use clusters nothing (BPS would refuse the whole submit)
    config, _ = make(tmp_path, plan_labels=labels[2:], clusterDimensions=["detector"])
    assert "cluster" not in config and "clusterAlgorithm" not in config
