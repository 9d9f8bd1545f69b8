"""The demo's own PipelineTasks and the butler repo they run over.

``python -m user_batch.pipeline_demo make-repo REPO [--detectors N]`` creates a butler repo
with instrument ``DEMO``, N detectors (default 10) and one array per detector (dataset type
``demo_input``, RUN ``demo/raw``); on an existing repo it says so and leaves it alone (exit 0).
``bin/start``, the proxy's tests and ``tests/python/test_pipeline.py`` use it.

:class:`AddTask` (``user_batch.pipeline_demo.AddTask`` in a pipeline YAML) adds ``addend`` to
the array of dataset type ``{input}`` and writes ``{output}``, per (instrument, detector); its
``failOnDetectors`` makes it raise :class:`InjectedFailure` for those detectors, so that a
config override can cause a real failing quantum; ``sleepSeconds`` makes each quantum slow.
``demo/pipelines/add.yaml`` chains two.

The rest of the package imports the LSST middleware only inside functions, so that it runs
without it; this module imports it at the top (pipetask imports the tasks from here).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import lsst.pex.config as pex_config
import numpy as np
from lsst.daf.butler import Butler, DatasetType
from lsst.pipe.base import PipelineTask, PipelineTaskConfig, PipelineTaskConnections, Struct
from lsst.pipe.base import connectionTypes as cT

INSTRUMENT = "DEMO"
#: any Instrument subclass will do for the registry record; the demo needs no camera
INSTRUMENT_CLASS = "lsst.pipe.base.tests.simpleQGraph.SimpleInstrument"
INPUT_DATASET_TYPE = "demo_input"
INPUT_RUN = "demo/raw"
STORAGE_CLASS = "NumpyArray"
DIMENSIONS = ("instrument", "detector")


def input_array(detector: int) -> np.ndarray:
    """What make-repo stores for one detector (tests compute expected outputs from it)."""
    return np.arange(5, dtype=np.int64) + 100 * detector


class InjectedFailure(RuntimeError):
    """Raised on purpose for a detector in ``failOnDetectors``."""


class AddConnections(
    PipelineTaskConnections,
    dimensions=DIMENSIONS,
    defaultTemplates={"input": INPUT_DATASET_TYPE, "output": "demo_added"},
):
    inputArray = cT.Input(
        name="{input}",
        dimensions=DIMENSIONS,
        storageClass=STORAGE_CLASS,
        doc="The array to add to.",
    )
    outputArray = cT.Output(
        name="{output}",
        dimensions=DIMENSIONS,
        storageClass=STORAGE_CLASS,
        doc="The input plus addend.",
    )


class AddConfig(PipelineTaskConfig, pipelineConnections=AddConnections):
    addend = pex_config.Field[int](doc="What to add to every element.", default=1)
    failOnDetectors = pex_config.ListField[int](
        doc="Raise InjectedFailure for these detectors (to see a failing quantum).",
        default=[],
    )
    sleepSeconds = pex_config.Field[float](
        doc="Sleep this long in each quantum (to watch progress, or cancel a run).", default=0.0
    )


class AddTask(PipelineTask):
    """Adds ``config.addend`` to an array; fails on purpose for ``config.failOnDetectors``."""

    ConfigClass = AddConfig
    _DefaultName = "demoAdd"

    def runQuantum(self, butlerQC, inputRefs, outputRefs):
        detector = butlerQC.quantum.dataId["detector"]
        if detector in self.config.failOnDetectors:
            raise InjectedFailure(
                f"detector {detector} is in failOnDetectors {list(self.config.failOnDetectors)}"
            )
        if self.config.sleepSeconds > 0:
            time.sleep(self.config.sleepSeconds)
        super().runQuantum(butlerQC, inputRefs, outputRefs)

    def run(self, inputArray: np.ndarray) -> Struct:
        self.log.info("adding %d to %d values", self.config.addend, inputArray.size)
        return Struct(outputArray=inputArray + self.config.addend)


# --------------------------------------------------------------------------- the demo repo


def make_repo(root: str, detectors: int = 10) -> str:
    """Create the demo repo at ``root``; returns a sentence saying what was done."""
    if os.path.exists(os.path.join(root, "butler.yaml")):
        with Butler.from_config(root) as butler:
            found = len(butler.query_dimension_records("detector", instrument=INSTRUMENT))
        return f"{root} is already a butler repo ({found} detectors of {INSTRUMENT}); left as it is"
    Butler.makeRepo(root)
    with Butler.from_config(root, writeable=True, run=INPUT_RUN) as butler:
        registry = butler.registry
        registry.syncDimensionData(
            "instrument",
            {"name": INSTRUMENT, "class_name": INSTRUMENT_CLASS, "detector_max": detectors},
        )
        registry.insertDimensionData(
            "detector",
            *(
                {"instrument": INSTRUMENT, "id": d, "full_name": f"D{d:03d}"}
                for d in range(detectors)
            ),
        )
        registry.registerDatasetType(
            DatasetType(INPUT_DATASET_TYPE, DIMENSIONS, STORAGE_CLASS, universe=butler.dimensions)
        )
        for d in range(detectors):
            butler.put(input_array(d), INPUT_DATASET_TYPE, instrument=INSTRUMENT, detector=d)
    return (
        f"created butler repo {root}: instrument {INSTRUMENT}, {detectors} detectors, "
        f"{INPUT_DATASET_TYPE} in {INPUT_RUN}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m user_batch.pipeline_demo")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make-repo", help="create the demo butler repo")
    make.add_argument("repo")
    make.add_argument("--detectors", type=int, default=10)
    args = parser.parse_args(argv)
    if args.detectors < 1:
        parser.error("--detectors must be at least 1")
    print(make_repo(os.path.abspath(args.repo), args.detectors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
