"""gmlearn: machine learning for ground motion and seismic hazard.

Importing gmlearn is cheap: heavy libraries (OpenQuake, XGBoost, DuckDB,
matplotlib) load inside the modules that use them.
"""

from gmlearn._version import __version__

__all__ = ["__version__"]
