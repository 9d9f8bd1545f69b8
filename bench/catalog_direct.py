"""The direct path of the catalog benchmark (bench/catalog-run.mjs): the same LSDB work as a User
Batch catalog run, written by hand the way a user would without User Batch — a cluster on the
same Dask Gateway with the same options, open the catalog, map the same function over its
partitions, write the result as a HATS catalog, stop the cluster.

    python bench/catalog_direct.py make COLLECTION_DIR ROWS     build the benchmark catalog once (COLLECTION_DIR/bench)
    python bench/catalog_direct.py run CATALOG_DIR OUT_DIR WORKERS   (gateway from bin/dask-gateway env)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUNCTION = 'def process(df):\n    out = df[df["mag"] < 22].copy()\n    out["flux2"] = out["flux"] * 2\n    return out\n'


def make(collection: str, rows: int) -> None:
    """Bigger than the test fixture: about 50,000 rows a partition. lsdb writes a collection; the
    catalog itself is COLLECTION/bench."""
    if (Path(collection) / "bench" / "partition_info.csv").exists():
        return
    sys.path.insert(0, str(REPO / "tests" / "fixtures"))
    import lsdb

    from make_catalog import synthetic_frame

    lsdb.from_dataframe(
        synthetic_frame(rows, seed=7),
        catalog_name="bench",
        ra_column="ra",
        dec_column="dec",
        lowest_order=0,
        highest_order=8,
        partition_rows=50_000,
        margin_threshold=None,
    ).to_hats(collection)


def run(catalog: str, out: str, workers: int) -> None:
    env = dict(
        line.split("=", 1)
        for line in subprocess.run(
            [str(REPO / "bin" / "dask-gateway"), "env"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    from dask_gateway import BasicAuth, Gateway

    password = Path(env["USER_BATCH_TEST_GATEWAY_PASSWORD_FILE"]).read_text().strip()
    gateway = Gateway(
        env["USER_BATCH_TEST_GATEWAY_ADDRESS"],
        proxy_address=env["USER_BATCH_TEST_GATEWAY_PROXY_ADDRESS"],
        auth=BasicAuth(os.environ.get("BENCH_GATEWAY_USER", "bench"), password),
    )
    cluster = gateway.new_cluster(worker_cores=1, worker_memory=2.0, max_workers=workers)
    try:
        cluster.scale(workers)
        client = cluster.get_client()
        import lsdb

        namespace: dict = {}
        exec(FUNCTION, namespace)
        result = lsdb.open_catalog(
            catalog, columns=["id", "ra", "dec", "mag", "flux"]
        ).map_partitions(namespace["process"])
        result.to_hats(out, catalog_name="result")
        client.close()
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        t0 = time.monotonic()
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        print(json.dumps({"seconds": time.monotonic() - t0}))
