"""Compiled boosted trees: the same predictions as XGBoost, several times faster for shallow ensembles.

A boosted ensemble of depth-``d`` trees is a sum of piecewise-constant
functions, each of the at most ``2**d - 1`` features its tree splits on.
Trees that split on the same features (or on a subset of another group's
features) are summed, once, into one lookup table over the grid of their
split thresholds. Prediction then bins each feature once per row and adds one
table cell per group: for gmlearn's default depth-2 models (hundreds of trees
per IMT in some tens of groups) that is a few table lookups per row instead
of hundreds of tree walks.

The tables reproduce XGBoost's decisions exactly: inputs are rounded to
float32 as XGBoost does, a row goes left when ``x < threshold`` and a
missing value (NaN) follows each node's default branch. Only the float sums
differ (float64 here, float32 in XGBoost), so predictions agree to about
1e-5 in ln units; :class:`CompiledForest` checks this against the booster
when it is built and refuses to build otherwise.

Nothing is written to disk: a forest is compiled from a loaded booster, so
saved models stay plain XGBoost UBJ files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gmlearn.exceptions import ModelError

__all__ = ["CompiledEnsemble", "CompiledForest"]

#: Largest lookup table of one group (cells); a group that would grow past it starts a new one.
MAX_CELLS = 250_000


def _kernel():  # noqa: ANN202 - compiled lazily so importing gmlearn stays cheap
    from numba import njit

    @njit(cache=True, nogil=True)
    def evaluate(x32, thr, thr_off, n_thr, feats, nfeat, strides, remap_off, table_off, remaps, tables,
                 gstart, bases, sel):  # pragma: no cover - numba
        n, n_features = x32.shape
        bins = np.empty((n, n_features), dtype=np.int64)
        for i in range(n):  # bin every feature once per row, for all forests
            for f in range(n_features):
                v = x32[i, f]
                if np.isnan(v):
                    bins[i, f] = n_thr[f] + 1
                    continue
                lo, hi = 0, n_thr[f]  # count of thresholds <= v (binary search)
                base_f = thr_off[f]
                while lo < hi:
                    mid = (lo + hi) // 2
                    if thr[base_f + mid] <= v:
                        lo = mid + 1
                    else:
                        hi = mid
                bins[i, f] = lo
        out = np.empty((sel.shape[0], n))
        for j in range(sel.shape[0]):
            forest = sel[j]
            out[j, :] = bases[forest]
            # group by group, so that one group's table stays in cache while all rows use it
            for g in range(gstart[forest], gstart[forest + 1]):
                nf = nfeat[g]
                t0 = table_off[g]
                for i in range(n):
                    idx = 0
                    for k in range(nf):
                        idx += remaps[remap_off[g, k] + bins[i, feats[g, k]]] * strides[g, k]
                    out[j, i] += tables[t0 + idx]
        return out

    return evaluate


_EVALUATE: Any = None


def _base_score(booster: Any) -> float:
    config = json.loads(booster.save_config())
    text = str(config["learner"]["learner_model_param"]["base_score"])
    return float(text.strip("[]").split(",")[0])


class CompiledForest:
    """Lookup-table form of a fitted XGBoost regression booster (identity link).

    Parameters
    ----------
    booster
        An ``xgboost.Booster`` or ``XGBRegressor``.
    n_features
        Number of input columns.
    check_rows
        Rows used to check the compiled predictions against the booster.

    Raises
    ------
    ModelError
        If the booster is not a tree model with an identity link, or the
        compiled predictions differ from the booster's by more than 1e-4.

    ``thresholds`` (per feature, sorted float32) lets several forests share
    one binning of the inputs (:class:`CompiledEnsemble`).
    """

    def __init__(self, booster: Any, n_features: int, *, thresholds: list[np.ndarray] | None = None,
                 check_rows: np.ndarray | None = None) -> None:
        booster = booster.get_booster() if hasattr(booster, "get_booster") else booster
        config = json.loads(booster.save_config())
        objective = config["learner"]["objective"]["name"]
        if objective not in ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror"):
            msg = f"CompiledForest handles regression boosters with an identity link; this one has objective {objective!r}."
            raise ModelError(msg)
        frame = booster.trees_to_dataframe()
        names = booster.feature_names or [f"f{k}" for k in range(n_features)]
        index = {name: k for k, name in enumerate(names)}
        self.n_features = int(n_features)
        self.base = _base_score(booster)
        own = _thresholds(frame, names)
        if thresholds is not None:  # shared bins (CompiledEnsemble): every own threshold must be among them
            thresholds = [np.asarray(t, dtype=np.float32) for t in thresholds]
            if len(thresholds) != len(own) or any(len(np.setdiff1d(o, t)) for o, t in zip(own, thresholds)):
                msg = "thresholds must hold, per feature, every split threshold of the booster."
                raise ModelError(msg)
            own = thresholds
        self.thresholds = own
        self.n_thr = np.array([len(t) for t in self.thresholds], dtype=np.int64)
        self.thr_off = np.concatenate([[0], np.cumsum(self.n_thr)[:-1]]).astype(np.int64)
        self.thr = np.concatenate([*self.thresholds, np.zeros(1, np.float32)]).astype(np.float32)
        self._build(frame, index)
        rows = check_rows if check_rows is not None else self._probe_rows()
        self.max_abs_diff = self._check(booster, rows)

    # -- construction ------------------------------------------------------------------
    def _build(self, frame: Any, index: dict[str, int]) -> None:
        trees = []
        for _, nodes in frame.groupby("Tree", sort=True):
            trees.append(_tree_arrays(nodes, index))
        # supersets first, so a tree joins the smallest existing group that covers its features
        trees.sort(key=lambda t: -len(t["feats"]))
        groups: list[dict[str, Any]] = []
        for tree in trees:
            feats = tree["feats"]
            if not feats:  # a single leaf: a constant
                self.base += float(tree["leaf"][0])
                continue
            local = {f: set(tree["split"][tree["feature"] == f].tolist()) for f in feats}
            own_cells = int(np.prod([len(v) + 2 for v in local.values()]))
            if own_cells > MAX_CELLS:
                msg = (f"a tree splits on {len(feats)} features with a {own_cells}-cell table, more than "
                       f"MAX_CELLS={MAX_CELLS}; deep trees cannot be compiled (use XGBoost's prediction).")
                raise ModelError(msg)
            best = None
            for g in groups:
                if set(feats) <= set(g["feats"]):
                    cells = np.prod([len(g["local"][f] | local.get(f, set())) + 2 for f in g["feats"]])
                    if cells <= MAX_CELLS and (best is None or len(g["feats"]) < len(best["feats"])):
                        best = g
            if best is None:
                best = {"feats": feats, "local": {f: set() for f in feats}, "trees": []}
                groups.append(best)
            for f, values in local.items():
                best["local"][f] |= values
            best["trees"].append(tree)
        self._tables(groups)

    def _tables(self, groups: list[dict[str, Any]]) -> None:
        width = max((len(g["feats"]) for g in groups), default=1)
        n = len(groups)
        self.feats = np.zeros((n, width), dtype=np.int64)
        self.nfeat = np.zeros(n, dtype=np.int64)
        self.strides = np.zeros((n, width), dtype=np.int64)
        self.remap_off = np.zeros((n, width), dtype=np.int64)
        self.table_off = np.zeros(n, dtype=np.int64)
        remaps: list[np.ndarray] = []
        tables: list[np.ndarray] = []
        r_off = t_off = 0
        for gi, g in enumerate(groups):
            feats = g["feats"]
            local = [np.array(sorted(g["local"][f]), dtype=np.float32) for f in feats]
            dims = [len(t) + 2 for t in local]  # bins 0..len(t), then the missing-value bin
            table = np.zeros(int(np.prod(dims)))
            grid = np.indices(dims).reshape(len(dims), -1)  # local bin of each feature, per cell
            for tree in g["trees"]:
                table += _walk(tree, feats, local, grid)
            strides = np.cumprod([1, *dims[::-1]])[:-1][::-1]
            self.nfeat[gi] = len(feats)
            self.table_off[gi] = t_off
            tables.append(table)
            t_off += len(table)
            for k, (f, thr) in enumerate(zip(feats, local)):
                glob = self.thresholds[f]
                # global bin b (count of global thresholds <= x) -> count of local thresholds <= x
                counts = np.searchsorted(thr, glob, side="right")  # local count at each global threshold
                remap = np.concatenate([[0], counts, [len(thr) + 1]]).astype(np.int64)
                self.feats[gi, k] = f
                self.strides[gi, k] = strides[k]
                self.remap_off[gi, k] = r_off
                remaps.append(remap)
                r_off += len(remap)
        self.remaps = np.concatenate(remaps) if remaps else np.zeros(1, dtype=np.int64)
        self.tables = np.concatenate(tables) if tables else np.zeros(1)
        self.n_groups = n
        self.n_cells = int(t_off)

    # -- prediction --------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions (float64) for an (n_rows, n_features) array."""
        global _EVALUATE
        x = np.asarray(x, dtype=np.float64)  # float32 rounding happens once, as in XGBoost
        if x.ndim != 2 or x.shape[1] != self.n_features:
            msg = f"CompiledForest expects an array of shape (n_rows, {self.n_features}); got {x.shape}."
            raise ModelError(msg)
        if _EVALUATE is None:
            _EVALUATE = _kernel()
        return _EVALUATE(np.ascontiguousarray(x, dtype=np.float32), self.thr, self.thr_off, self.n_thr, self.feats,
                         self.nfeat, self.strides, self.remap_off, self.table_off, self.remaps, self.tables,
                         np.array([0, self.n_groups]), np.array([self.base]), np.zeros(1, dtype=np.int64))[0]

    # -- checks ------------------------------------------------------------------------
    def _probe_rows(self, n: int = 2000, seed: int = 0) -> np.ndarray:
        """Rows that hit every side of every threshold (and missing values)."""
        rng = np.random.default_rng(seed)
        cols = []
        for thr in self.thresholds:
            if len(thr) == 0:
                cols.append(rng.normal(size=n))
                continue
            span = float(thr[-1] - thr[0]) or 1.0
            pool = np.concatenate([thr, thr - 1e-3 * span, thr + 1e-3 * span, [thr[0] - span, thr[-1] + span]])
            col = rng.choice(pool, size=n).astype(np.float64)
            col[rng.random(n) < 0.02] = np.nan
            cols.append(col)
        return np.column_stack(cols)

    def _check(self, booster: Any, rows: np.ndarray) -> float:
        import xgboost as xgb

        rows = np.asarray(rows, dtype=np.float64)
        ref = booster.predict(xgb.DMatrix(rows, missing=np.nan, feature_names=booster.feature_names))
        diff = float(np.max(np.abs(self.predict(rows) - ref))) if len(rows) else 0.0
        if not diff <= 1e-4:
            msg = f"CompiledForest differs from XGBoost by {diff:.3g} on check rows; the booster cannot be compiled."
            raise ModelError(msg)
        return diff


def _thresholds(frame: Any, names: list[str]) -> list[np.ndarray]:
    """Sorted unique float32 split thresholds of each feature."""
    splits = frame[frame["Feature"] != "Leaf"]
    return [np.unique(splits.loc[splits["Feature"] == name, "Split"].to_numpy(np.float32)) for name in names]


class CompiledEnsemble:
    """Several compiled forests (one per IMT) over the same inputs, binned once per row.

    Parameters
    ----------
    boosters
        Name (IMT) -> ``xgboost.Booster`` or ``XGBRegressor``, all on the same features.
    n_features
        Number of input columns.
    """

    def __init__(self, boosters: Mapping[str, Any], n_features: int) -> None:
        raw = {k: (b.get_booster() if hasattr(b, "get_booster") else b) for k, b in boosters.items()}
        names = {k: b.feature_names or [f"f{j}" for j in range(n_features)] for k, b in raw.items()}
        per = [_thresholds(b.trees_to_dataframe(), names[k]) for k, b in raw.items()]
        shared = [np.unique(np.concatenate([p[f] for p in per])).astype(np.float32) for f in range(n_features)]
        self.names = list(raw)
        self.forests = {k: CompiledForest(b, n_features, thresholds=shared) for k, b in raw.items()}
        self.n_features = int(n_features)
        first = next(iter(self.forests.values()))
        self.thr, self.thr_off, self.n_thr = first.thr, first.thr_off, first.n_thr
        forests = list(self.forests.values())
        width = max(f.feats.shape[1] for f in forests)

        def pad(a: np.ndarray) -> np.ndarray:
            return np.pad(a, ((0, 0), (0, width - a.shape[1])))

        r_shift = np.cumsum([0] + [len(f.remaps) for f in forests])
        t_shift = np.cumsum([0] + [len(f.tables) for f in forests])
        self.feats = np.concatenate([pad(f.feats) for f in forests])
        self.strides = np.concatenate([pad(f.strides) for f in forests])
        self.remap_off = np.concatenate([pad(f.remap_off + r_shift[j]) for j, f in enumerate(forests)])
        self.nfeat = np.concatenate([f.nfeat for f in forests])
        self.table_off = np.concatenate([f.table_off + t_shift[j] for j, f in enumerate(forests)])
        self.remaps = np.concatenate([f.remaps for f in forests])
        self.tables = np.concatenate([f.tables for f in forests])
        self.gstart = np.cumsum([0] + [f.n_groups for f in forests]).astype(np.int64)
        self.bases = np.array([f.base for f in forests])

    def predict(self, x: np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
        """Predictions, shape (len(names), n_rows), for the named forests (default all)."""
        global _EVALUATE
        names = self.names if names is None else list(names)
        unknown = [k for k in names if k not in self.forests]
        if unknown:
            msg = f"CompiledEnsemble has forests {self.names}; not {unknown}."
            raise ModelError(msg)
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            msg = f"CompiledEnsemble expects an array of shape (n_rows, {self.n_features}); got {x.shape}."
            raise ModelError(msg)
        if _EVALUATE is None:
            _EVALUATE = _kernel()
        sel = np.array([self.names.index(k) for k in names], dtype=np.int64)
        return _EVALUATE(np.ascontiguousarray(x, dtype=np.float32), self.thr, self.thr_off, self.n_thr, self.feats,
                         self.nfeat, self.strides, self.remap_off, self.table_off, self.remaps, self.tables,
                         self.gstart, self.bases, sel)


def _tree_arrays(nodes: Any, index: dict[str, int]) -> dict[str, Any]:
    """One tree of ``Booster.trees_to_dataframe`` as arrays indexed by node number."""
    n = int(nodes["Node"].max()) + 1
    feature = np.full(n, -1, dtype=np.int64)
    split = np.zeros(n, dtype=np.float32)
    yes = np.zeros(n, dtype=np.int64)
    no = np.zeros(n, dtype=np.int64)
    missing = np.zeros(n, dtype=np.int64)
    leaf = np.zeros(n)

    def child(ref: str) -> int:
        return int(str(ref).rsplit("-", 1)[1])

    for row in nodes.itertuples(index=False):
        k = int(row.Node)
        if row.Feature == "Leaf":
            leaf[k] = float(row.Gain)
            continue
        feature[k] = index[row.Feature]
        split[k] = np.float32(row.Split)
        yes[k], no[k], missing[k] = child(row.Yes), child(row.No), child(row.Missing)
    feats = tuple(sorted(set(feature[feature >= 0].tolist())))
    return {"feature": feature, "split": split, "yes": yes, "no": no, "missing": missing, "leaf": leaf, "feats": feats}


def _walk(tree: dict[str, Any], feats: tuple[int, ...], local: list[np.ndarray], grid: np.ndarray) -> np.ndarray:
    """Leaf value of one tree at every cell of a group's grid (cells given by each feature's local bin)."""
    pos = np.full(max(feats, default=0) + 1, -1, dtype=np.int64)
    pos[list(feats)] = np.arange(len(feats))
    feature = tree["feature"]
    inner_nodes = feature >= 0
    # local index of each node's threshold among its feature's thresholds in this group
    cut = np.zeros(len(feature), dtype=np.int64)
    n_local = np.array([len(t) for t in local], dtype=np.int64)
    for k in np.flatnonzero(inner_nodes):
        cut[k] = int(np.searchsorted(local[pos[feature[k]]], tree["split"][k], side="left"))
    node = np.zeros(grid.shape[1], dtype=np.int64)
    cells = np.arange(grid.shape[1])
    for _ in range(len(feature)):
        f = feature[node]
        inner = f >= 0
        if not inner.any():
            break
        at = node[inner]
        k = pos[f[inner]]
        lb = grid[k, cells[inner]]
        miss = lb == n_local[k] + 1
        # x < threshold  <=>  fewer than cut+1 local thresholds are <= x  <=>  local bin <= cut
        node[inner] = np.where(miss, tree["missing"][at], np.where(lb <= cut[at], tree["yes"][at], tree["no"][at]))
    return tree["leaf"][node]
