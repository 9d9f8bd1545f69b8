"""The job folder's file names and the runner's exit codes: the proxy ⇄ runner seam.

GENERATED from the contract package (contract/src/jobdir.ts); do not edit. After changing the
contract, run `npm run generate -w contract`; a test fails while this file is stale.

The proxy writes the inputs (``run.json``, ``catalog.json``, ``sweep.json``) and reads back
everything else. These names are the contract's (``docs/contract.md``, "Job directory").
"""

# Written by the proxy, read by the runner.
SPEC_JSON = "spec.json"  # the job spec as submitted (defaults filled in)
RUN_JSON = "run.json"  # what the runner runs; written last, its presence means the folder is complete
CATALOG_JSON = "catalog.json"  # a catalog run: the driver's input
PLAN_JSON = "plan.json"  # a catalog run: the plan made at submit
SWEEP_JSON = "sweep.json"  # a sweep: each item's parameter values
INPUT_NOTEBOOK = "input.ipynb"  # a notebook job: the notebook to run
SPAWN_JSON = "spawn.json"  # local backend: the process the proxy started
PIPELINE_JSON = "pipeline.json"  # a pipeline run: the planner's and the runner's input
PIPELINE_GRAPH = "pipeline.qg"  # a pipeline run: the quantum graph built at plan time, the one that runs
PIPELINE_PLAN_JSON = "pipeline-plan.json"  # a pipeline run: quanta per task label and the output run, from the planner
PIPELINE_PLAN_ERROR_JSON = "pipeline-plan-error.json"  # a failed pipeline plan: a sentence and the middleware's words

# Written by the runner, read by the proxy.
LAUNCH_JSON = "launch.json"  # the runner's process, first thing it writes
ENV_JSON = "env.json"  # interpreter, packages, host, platform
PROGRESS_JSON = "progress.json"  # cells, items or partitions done so far
ERROR_JSON = "error.json"  # the first error
EXIT_JSON = "exit.json"  # how the runner ended; its presence means it ended
PARTITIONS_JSON = "partitions.json"  # a catalog run: each partition's state
PREVIEW_ARROW = "preview.arrow"  # a catalog run: the first rows of the result, Arrow IPC
PREVIEW_JSON = "preview.json"  # a catalog run: what preview.arrow holds
CATALOG_PROVENANCE_JSON = "catalog-provenance.json"  # a catalog run: the driver's record
PIPELINE_PROGRESS_JSON = "pipeline-progress.json"  # a pipeline run: quanta done/failed/blocked per label
PIPELINE_LOG_JSON = "pipeline-log.json"  # a pipeline run: pipetask's JSON log records, one per line
PIPELINE_PROVENANCE_JSON = "pipeline-provenance.json"  # a pipeline run: the runner's record of what ran
OUTPUT_LOG = "output.log"  # the job's log (stdout and stderr)
ITEMS_DIR = "items"  # a sweep: one folder per item (items/N/), each a small job folder

# Exit codes (also ``exitCode`` in exit.json) and their reasons.
EXIT_OK = 0  # ok
EXIT_CELL_ERROR = 1  # cell_error, partition_error, items_failed, quanta_failed
EXIT_RUNNER_ERROR = 2  # runner_error
EXIT_WALLTIME = 124  # walltime
EXIT_CANCELLED = 143  # cancelled

# exit.json's ``reason`` and the exit code that goes with it.
EXIT_CODES = {
    "ok": 0,
    "cell_error": 1,
    "partition_error": 1,
    "items_failed": 1,
    "quanta_failed": 1,
    "runner_error": 2,
    "walltime": 124,
    "cancelled": 143,
}
