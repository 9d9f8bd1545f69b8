"""The HATS catalog made by tests/fixtures/make_catalog.py is a real one lsdb reads back."""

from __future__ import annotations

import sys

import pandas as pd

from conftest import MAKE_CATALOG

sys.path.insert(0, str(MAKE_CATALOG.parent))
import make_catalog  # noqa: E402


def test_lsdb_reads_back_every_row(catalog):
    import lsdb

    expected = make_catalog.synthetic_frame()
    cat = lsdb.open_catalog(catalog)
    pixels = cat.get_healpix_pixels()
    assert len(pixels) >= 6 and len({p.order for p in pixels}) >= 2

    got = cat.compute().sort_values("id").reset_index(drop=True)
    assert len(got) == len(expected) == 5000
    assert got["id"].tolist() == expected["id"].tolist()
    pd.testing.assert_series_equal(got["ra"], expected["ra"], check_dtype=False, check_names=False)
    assert cat.hc_structure.catalog_info.total_rows == 5000


def test_same_seed_same_rows_and_layout():
    a, b = make_catalog.synthetic_frame(seed=7), make_catalog.synthetic_frame(seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(make_catalog.synthetic_frame(seed=8))
