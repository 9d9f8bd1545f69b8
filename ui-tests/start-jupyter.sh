#!/usr/bin/env bash
# Started by Playwright (webServer): a real JupyterLab with the built extension, and the proxy
# started by jupyter-server-proxy on first use. Backends: local (the default) and htcondor on the
# real pool of bin/condor-pool (bin/test starts it before the ui suite), configured as
# server-proxy/test/htcondor/pool.itest.ts does. Fresh workspace and store every run, with the demo
# notebook and the UI-test quota file; both live in the pool's shared staging folder, because
# HTCondor jobs read their job folder and write their outputs there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
export PATH="$repo/.venv/bin:$PATH"
eval "$("$repo/bin/condor-pool" env)"   # USER_BATCH_CONDOR_SHARED, CONDOR_POOL_UID, ...
port="${UI_TEST_PORT:-8899}"
run="$USER_BATCH_CONDOR_SHARED/ui-tests-$port"
rm -rf "$run"; mkdir -p "$run/workspace" "$run/data"
chmod 0755 "$run" "$run/workspace" "$run/data"   # the job user must reach job and output folders
cp "$repo/demo/Demo.ipynb" "$run/workspace/Demo.ipynb"
python="$repo/.venv/bin/python"
# A small real HATS catalog (10 partitions) for "Run over catalog", at catalogs/synthetic (the
# setting's default). Built once (lsdb takes a while), outside the folder wiped above; a copy per
# run so a test can never change the cached one.
catalog_cache="$USER_BATCH_CONDOR_SHARED/ui-catalog-cache/synthetic"
if [[ ! -f "$catalog_cache/hats.properties" ]]; then
  mkdir -p "$(dirname "$catalog_cache")"
  "$python" "$repo/tests/fixtures/make_catalog.py" "$catalog_cache" >&2
fi
mkdir -p "$run/workspace/catalogs"
cp -r "$catalog_cache" "$run/workspace/catalogs/synthetic"
chmod -R a+rX "$run/workspace/catalogs"
# The demo pipeline and a small real butler repo (10 detectors in demo/raw) for "Run pipeline in
# batch", at the settings' defaults (pipelines/add.yaml, butler-repo); made once, a copy per run.
repo_cache="$USER_BATCH_CONDOR_SHARED/ui-butler-cache/butler-repo"
if [[ ! -f "$repo_cache/butler.yaml" ]]; then
  rm -rf "$repo_cache"; mkdir -p "$(dirname "$repo_cache")"
  "$python" -m user_batch.pipeline_demo make-repo "$repo_cache" >&2
fi
cp -r "$repo_cache" "$run/workspace/butler-repo"
mkdir -p "$run/workspace/pipelines"
cp "$repo/demo/pipelines/add.yaml" "$run/workspace/pipelines/add.yaml"
chmod -R a+rwX "$run/workspace/butler-repo" "$run/workspace/pipelines"
cat >"$run/site.json" <<JSON
{
  "backends": [
    { "name": "local", "label": "This server", "default": true },
    { "name": "htcondor", "label": "HTCondor pool", "type": "htcondor",
      "commandPrefix": ["$repo/bin/condor-cmd"], "stagingDir": "$USER_BATCH_CONDOR_SHARED",
      "python": "$python", "jobOwner": { "uid": $CONDOR_POOL_UID, "gid": $CONDOR_POOL_UID } },
    { "name": "htcondor-broken", "label": "HTCondor pool (broken python)", "type": "htcondor",
      "commandPrefix": ["$repo/bin/condor-cmd"], "stagingDir": "$USER_BATCH_CONDOR_SHARED",
      "python": "/nonexistent/python3", "jobOwner": { "uid": $CONDOR_POOL_UID, "gid": $CONDOR_POOL_UID } }
  ],
  "pollIntervalMs": 500
}
JSON
export USER_BATCH_CONFIG="$run/site.json"
export USER_BATCH_PYTHON="$python"
export JUPYTERLAB_GALATA_ROOT_DIR="$run/workspace"
export USER_BATCH_ROOT_DIR="$run/workspace"
export USER_BATCH_DATA_DIR="$run/data"
export USER_BATCH_QUOTA_FILE="$here/quotas.yaml"
export USER_BATCH_USER="${USER_BATCH_USER:-scientist}"
export USER_BATCH_GROUPS="g_science_collab"
# The Batch jobs panel benchmark (bench/monitor-bench.config.ts) fills the store with this many
# ended jobs, through the proxy's own store code, before the proxy first opens it.
if [[ -n "${UI_TEST_SEED_JOBS:-}" ]]; then
  node "$repo/bench/seed-jobs.mjs" "$USER_BATCH_DATA_DIR" "$UI_TEST_SEED_JOBS" "$USER_BATCH_USER" "$USER_BATCH_QUOTA_FILE"
fi
allow_root=(); [[ $(id -u) -eq 0 ]] && allow_root=(--allow-root)
cd "$run/workspace"
exec jupyter lab --config "$here/jupyter_server_test_config.py" "${allow_root[@]}"
