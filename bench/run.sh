#!/usr/bin/env bash
# One command: set up what the benchmark needs, run all three paths in one run, write
# bench/RESULTS.md (+ bench/results.json).
#   bench/run.sh                       defaults: N=10 sequential jobs/path, K=10 per burst, 2 bursts
#   BENCH_N=20 BENCH_K=10 bench/run.sh  more samples
# See bench/bench.py for every BENCH_* variable. Servers listen on 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
log() { printf '[bench/run.sh] %s\n' "$*"; }

# 1. The project venv (direct path, the proxy's job runner and its kernels).
if [[ ! -x .venv/bin/python ]]; then
  log "no project venv: running bin/setup"
  bin/setup
fi
.venv/bin/python -c 'import nbclient, nbformat, ipykernel' 2>/dev/null || {
  log "installing nbclient/ipykernel into the project venv"
  .venv/bin/pip install -q "nbclient>=0.10" nbformat ipykernel
}

# 2. jupyter-scheduler from PyPI in its own venv (so it cannot disturb the project's).
sv="$here/.venv-scheduler"
if [[ ! -x "$sv/bin/jupyter-server" ]] || ! "$sv/bin/python" -c 'import jupyter_scheduler' 2>/dev/null; then
  log "creating $sv with jupyterlab 4.6 + jupyter-scheduler"
  python3 -m venv "$sv"
  "$sv/bin/pip" install -q "jupyterlab==4.6.*" jupyter-scheduler
fi

# 3. The proxy build (built here only if nobody built it yet).
if [[ ! -f server-proxy/dist/server.js ]]; then
  log "building the proxy (server-proxy/dist/server.js is missing)"
  ( cd server-proxy && { [[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build ) \
    || log "proxy build failed: the 'ours' path will be reported as not measured"
fi

# 4. Keep only the newest few scratch folders (job dirs, server logs) of earlier runs.
if [[ -d "$here/.scratch" ]]; then
  ls -1d "$here"/.scratch/*/ 2>/dev/null | sort | head -n -3 | xargs -r rm -rf
fi

# 5. Run.
export BENCH_COMMAND="${BENCH_COMMAND:-$( env | grep -o '^BENCH_[A-Z_]*=[^ ]*' | grep -v '^BENCH_COMMAND=' | tr '\n' ' ')bench/run.sh}"
exec .venv/bin/python "$here/bench.py"
