import subprocess
import sys


def test_import_is_light():
    """`import gmlearn` (and the store/schema modules) must not pull heavy libraries."""
    code = (
        "import sys, gmlearn, gmlearn.schema, gmlearn.store, gmlearn.datasets, gmlearn.gmpe.prediction;"
        "heavy=[m for m in ('openquake','xgboost','torch','pymc','shap','duckdb','matplotlib') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_and_products_import_light():
    """Building the CLI (every product registers its commands) loads no heavy library either."""
    code = (
        "import sys, gmlearn.cli, gmlearn.hazard, gmlearn.shakemap, gmlearn.site, gmlearn.waveform, gmlearn.explain,"
        " gmlearn.catalog, gmlearn.geodesy, gmlearn.distributed;"
        "heavy=[m for m in ('openquake','xgboost','torch','pymc','shap','dask','numba','duckdb','matplotlib')"
        " if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
