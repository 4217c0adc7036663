"""GNSS velocity fields: readers, clustering, Euler poles, strain rates and geodetic moment rates.

>>> from gmlearn import geodesy                                    # doctest: +SKIP
>>> vel = geodesy.read_velocities("pbo.final_nam08.vel.gz")         # doctest: +SKIP
>>> ca = geodesy.select_stations(vel, region=(-125, -114, 32, 42), max_sigma=1.5, max_speed=60)
>>> res = geodesy.cluster_velocities(ca, "euler", 2, random_state=0)  # doctest: +SKIP
>>> pole = geodesy.fit_euler_pole(ca, res.labels == 1)               # doctest: +SKIP
>>> strain = geodesy.strain_grid(ca, spacing_deg=0.25)               # doctest: +SKIP
>>> geodesy.regional_moment_rate(strain, mu=3e10, thickness_km=15)   # doctest: +SKIP

Importing this package loads NumPy and pandas only; scikit-learn, SciPy and
matplotlib load inside the functions that use them. The command line lives in
:mod:`gmlearn.geodesy.cli`.
"""

from gmlearn.geodesy.clustering import METHODS, ClusterResult, assign_clusters, cluster_velocities, velocity_features
from gmlearn.geodesy.euler import (
    EulerPole,
    angle_between_deg,
    euler_velocity,
    fit_euler_pole,
    omega_to_pole,
    pole_covariance,
    pole_to_omega,
)
from gmlearn.geodesy.euler_clustering import euler_cluster, euler_misfit
from gmlearn.geodesy.moment import (
    TruncatedGR,
    compare_with_catalog,
    geodetic_moment_rate,
    gr_from_moment_rate,
    moment_magnitude,
    moment_rate_table,
    regional_moment_rate,
    scale_rates_to_moment,
    seismic_moment,
)
from gmlearn.geodesy.plots import plot_membership, plot_strain, plot_velocities
from gmlearn.geodesy.readers import detect_format, read_globk_vel, read_pbo_vel, read_velocities, read_velocity_csv
from gmlearn.geodesy.selection import select_stations
from gmlearn.geodesy.stability import StabilityResult, cluster_stability
from gmlearn.geodesy.strain import STRAIN_COLUMNS, strain_invariants, strain_triangles, to_nanostrain
from gmlearn.geodesy.strain_grid import make_grid, strain_grid
from gmlearn.geodesy.validation import CANONICAL, BadRowsWarning, check_velocity_table

__all__ = [
    "CANONICAL",
    "METHODS",
    "STRAIN_COLUMNS",
    "BadRowsWarning",
    "ClusterResult",
    "EulerPole",
    "StabilityResult",
    "TruncatedGR",
    "angle_between_deg",
    "assign_clusters",
    "check_velocity_table",
    "cluster_stability",
    "cluster_velocities",
    "compare_with_catalog",
    "detect_format",
    "euler_cluster",
    "euler_misfit",
    "euler_velocity",
    "fit_euler_pole",
    "geodetic_moment_rate",
    "gr_from_moment_rate",
    "make_grid",
    "moment_magnitude",
    "moment_rate_table",
    "omega_to_pole",
    "plot_membership",
    "plot_strain",
    "plot_velocities",
    "pole_covariance",
    "pole_to_omega",
    "read_globk_vel",
    "read_pbo_vel",
    "read_velocities",
    "read_velocity_csv",
    "regional_moment_rate",
    "scale_rates_to_moment",
    "seismic_moment",
    "select_stations",
    "strain_grid",
    "strain_invariants",
    "strain_triangles",
    "to_nanostrain",
    "velocity_features",
]
