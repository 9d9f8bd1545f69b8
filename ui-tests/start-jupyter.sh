#!/usr/bin/env bash
# Started by Playwright (webServer): a real JupyterLab with the built extension, and the proxy
# started by jupyter-server-proxy on first use, on the local backend. Fresh workspace and store
# every run, with the demo notebook and the UI-test quota file.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
export PATH="$repo/.venv/bin:$PATH"
run="$here/.run"
rm -rf "$run"; mkdir -p "$run/workspace" "$run/data"
cp "$repo/demo/Demo.ipynb" "$run/workspace/Demo.ipynb"
export JUPYTERLAB_GALATA_ROOT_DIR="$run/workspace"
export USER_BATCH_ROOT_DIR="$run/workspace"
export USER_BATCH_DATA_DIR="$run/data"
export USER_BATCH_QUOTA_FILE="$here/quotas.yaml"
export USER_BATCH_USER="${USER_BATCH_USER:-scientist}"
export USER_BATCH_GROUPS="g_science_collab"
allow_root=(); [[ $(id -u) -eq 0 ]] && allow_root=(--allow-root)
cd "$run/workspace"
exec jupyter lab --config "$here/jupyter_server_test_config.py" "${allow_root[@]}"
