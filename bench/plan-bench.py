"""Write a synthetic HATS partition index for the planner benchmark.

    python bench/plan-bench.py OUTDIR [--order 5] [--columns 20] [--no-files]

Every HEALPix pixel of ORDER is one partition (12,288 at order 5): partition_info.csv,
hats.properties, dataset/_common_metadata and a real dataset/_metadata footer with one row group
per partition (file_path set), written with pyarrow. Partition files are copies of a few small
template files of different row counts, so row and byte counts vary between partitions; with
--no-files they are not written (the planner only reads _metadata; hats.read_hats only the index).
OUTDIR is replaced. Prints a one-line JSON summary.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TEMPLATE_ROWS = [50, 200, 800, 3000]


def template_table(rows: int, columns: int, rng) -> pa.Table:
    data = {
        "_healpix_29": pa.array(np.sort(rng.integers(0, 2**62, rows)), pa.int64()),
        "id": pa.array(np.arange(rows), pa.int64()),
        "ra": pa.array(rng.random(rows) * 360),
        "dec": pa.array(rng.random(rows) * 180 - 90),
        "band": pa.array(rng.choice(["u", "g", "r", "i", "z", "y"], rows)),
    }
    for i in range(columns - len(data)):
        data[f"flux_{i}"] = pa.array(rng.normal(0, 1, rows))
    return pa.table(data)


def write_templates(outdir: Path, columns: int) -> list[Path]:
    rng = np.random.default_rng(5)
    paths = []
    for rows in TEMPLATE_ROWS:
        path = outdir / f"template-{rows}.parquet"
        pq.write_table(template_table(rows, columns, rng), path)
        paths.append(path)
    return paths


def relpath(order: int, pixel: int) -> str:
    return f"Norder={order}/Dir={(pixel // 10000) * 10000}/Npix={pixel}.parquet"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("outdir", type=Path)
    p.add_argument("--order", type=int, default=5)
    p.add_argument("--columns", type=int, default=20)
    p.add_argument("--no-files", action="store_true")
    a = p.parse_args(argv)
    out: Path = a.outdir
    if out.exists():
        shutil.rmtree(out)
    (out / "dataset").mkdir(parents=True)
    templates = write_templates(out, a.columns)
    npix = 12 * 4**a.order
    template_meta = [pq.read_metadata(t) for t in templates]
    total_rows = 0
    combined = None
    for pixel in range(npix):
        which = (pixel * 7919) % len(templates)  # a fixed, scattered mix of sizes
        meta = pq.read_metadata(templates[which])  # a fresh copy: set_file_path changes it in place
        meta.set_file_path(relpath(a.order, pixel))
        total_rows += template_meta[which].num_rows
        if combined is None:
            combined = meta
        else:
            combined.append_row_groups(meta)
        if not a.no_files:
            dest = out / "dataset" / relpath(a.order, pixel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(templates[which], dest)
    combined.write_metadata_file(str(out / "dataset" / "_metadata"))
    pq.write_metadata(
        template_meta[0].schema.to_arrow_schema(), out / "dataset" / "_common_metadata"
    )
    for t in templates:
        t.unlink()
    with open(out / "partition_info.csv", "w") as f:
        f.write("Norder,Npix\n")
        f.writelines(f"{a.order},{pixel}\n" for pixel in range(npix))
    (out / "hats.properties").write_text(
        "#HATS catalog\n"
        "obs_collection=plan_bench\ndataproduct_type=object\n"
        f"hats_nrows={total_rows}\nhats_col_ra=ra\nhats_col_dec=dec\nhats_col_healpix=_healpix_29\n"
        f"hats_col_healpix_order=29\nhats_npix_suffix=.parquet\nhats_order={a.order}\nhats_version=v1.0\n"
    )
    summary = {
        "dir": str(out),
        "partitions": npix,
        "rows": total_rows,
        "columns": a.columns,
        "metadataBytes": (out / "dataset" / "_metadata").stat().st_size,
        "files": not a.no_files,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
