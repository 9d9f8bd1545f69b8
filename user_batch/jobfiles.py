"""The job folder's file names and the runner's exit codes: the proxy ⇄ runner seam.

The proxy writes the inputs (``run.json``, ``catalog.json``, ``sweep.json``) and reads back
everything else. These names are the contract's (``docs/contract.md``, "Job directory").
"""

# Written by the proxy, read by the runner.
RUN_JSON = "run.json"
CATALOG_JSON = "catalog.json"
SWEEP_JSON = "sweep.json"
INPUT_NOTEBOOK = "input.ipynb"

# Written by the runner, read by the proxy.
LAUNCH_JSON = "launch.json"
ENV_JSON = "env.json"
PROGRESS_JSON = "progress.json"
ERROR_JSON = "error.json"
EXIT_JSON = "exit.json"
PARTITIONS_JSON = "partitions.json"
PREVIEW_ARROW = "preview.arrow"
PREVIEW_JSON = "preview.json"
CATALOG_PROVENANCE_JSON = "catalog-provenance.json"
ITEMS_DIR = "items"

# Exit codes (also ``exitCode`` in exit.json) and their reasons.
EXIT_OK = 0
EXIT_CELL_ERROR = 1
EXIT_RUNNER_ERROR = 2
EXIT_WALLTIME = 124
EXIT_CANCELLED = 143
