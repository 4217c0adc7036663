"""Check an XGBoost model file before XGBoost parses it.

XGBoost's own readers trust the sizes a file declares: a 31-byte UBJ file
declaring an array of 2**28 floats makes ``Booster.load_model`` read past its
buffer and kill the process (SIGSEGV), which no ``try`` can catch. A model
file may come from elsewhere, so :func:`check_booster_file` first decodes it
here, in Python, with every declared length checked against the bytes left in
the file, and then checks the tree structure XGBoost relies on (array lengths
equal to ``num_nodes``, child and feature indices in range, finite weights).
Only a file that passes is handed to XGBoost.

Supported: the ``gbtree`` (and ``dart``) boosters gmlearn writes, as UBJ
(``.ubj``) or JSON (``.json``). Anything else raises
:class:`~gmlearn.exceptions.ModelError` naming the file and the problem.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np

from gmlearn.exceptions import ModelError

__all__ = ["check_booster_file", "decode_ubjson", "check_booster_tree", "MAX_DEPTH"]

#: Deepest nesting of containers accepted in a booster file.
MAX_DEPTH = 64
_INT = {b"i": (">i1", 1), b"U": (">u1", 1), b"I": (">i2", 2), b"l": (">i4", 4), b"L": (">i8", 8)}
_FLOAT = {b"d": (">f4", 4), b"D": (">f8", 8)}
_TYPED = {**_INT, **_FLOAT}
_PER_NODE = ("left_children", "right_children", "parents", "split_indices", "split_conditions", "default_left",
             "base_weights")


class _Bad(Exception):
    """Raised inside the decoder; turned into a ModelError naming the file."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or n > len(self.data) - self.pos:
            msg = f"declares {n} bytes at offset {self.pos} but only {len(self.data) - self.pos} remain"
            raise _Bad(msg)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def marker(self) -> bytes:
        m = self.take(1)
        while m == b"N":  # no-op
            m = self.take(1)
        return m

    def integer(self, marker: bytes) -> int:
        if marker not in _INT:
            msg = f"expects an integer length at offset {self.pos - 1}, found marker {marker!r}"
            raise _Bad(msg)
        dtype, size = _INT[marker]
        return int(np.frombuffer(self.take(size), dtype=dtype)[0])

    def count(self, marker: bytes, item_size: int) -> int:
        n = self.integer(marker)
        if n < 0 or n * item_size > len(self.data) - self.pos:
            msg = (f"declares {n} items of {item_size} byte(s) at offset {self.pos} but only "
                   f"{len(self.data) - self.pos} bytes remain")
            raise _Bad(msg)
        return n


def _value(r: _Reader, marker: bytes, depth: int) -> Any:
    if depth > MAX_DEPTH:
        msg = f"nests containers deeper than {MAX_DEPTH}"
        raise _Bad(msg)
    if marker in _INT:
        return r.integer(marker)
    if marker in _FLOAT:
        dtype, size = _FLOAT[marker]
        return float(np.frombuffer(r.take(size), dtype=dtype)[0])
    if marker in (b"T", b"F"):
        return marker == b"T"
    if marker == b"Z":
        return None
    if marker in (b"S", b"H"):
        return r.take(r.count(r.marker(), 1)).decode("utf-8", errors="replace")
    if marker == b"C":
        return r.take(1).decode("latin-1")
    if marker == b"[":
        return _array(r, depth)
    if marker == b"{":
        return _object(r, depth)
    msg = f"has an unknown UBJSON marker {marker!r} at offset {r.pos - 1}"
    raise _Bad(msg)


def _array(r: _Reader, depth: int) -> Any:
    m = r.marker()
    if m == b"$":
        kind = r.take(1)
        if kind not in _TYPED:
            msg = f"has a typed array of {kind!r} at offset {r.pos - 1}; only numeric typed arrays are read"
            raise _Bad(msg)
        if r.take(1) != b"#":
            msg = f"has a typed array without a count at offset {r.pos - 1}"
            raise _Bad(msg)
        dtype, size = _TYPED[kind]
        n = r.count(r.marker(), size)
        return np.frombuffer(r.take(n * size), dtype=dtype)
    if m == b"#":
        n = r.count(r.marker(), 1)
        return [_value(r, r.marker(), depth + 1) for _ in range(n)]
    out = []
    while m != b"]":
        out.append(_value(r, m, depth + 1))
        m = r.marker()
    return out


def _object(r: _Reader, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = r.marker()
    if m in (b"$", b"#"):
        msg = f"has an optimised object at offset {r.pos - 1}, which XGBoost does not write"
        raise _Bad(msg)
    while m != b"}":
        key = r.take(r.count(m, 1)).decode("utf-8", errors="replace")
        out[key] = _value(r, r.marker(), depth + 1)
        m = r.marker()
    return out


def decode_ubjson(data: bytes) -> Any:
    """Decode UBJSON bytes, refusing any declared length larger than the bytes left.

    Typed numeric arrays come back as read-only NumPy arrays (no copy).

    Raises
    ------
    ValueError
        If the data are truncated, declare more than they hold, nest deeper
        than :data:`MAX_DEPTH`, hold trailing bytes or an unknown marker.
    """
    r = _Reader(data)
    try:
        value = _value(r, r.marker(), 0)
    except _Bad as exc:
        raise ValueError(str(exc)) from None
    if r.pos != len(data):
        msg = f"has {len(data) - r.pos} trailing byte(s) after the top-level value"
        raise ValueError(msg)
    return value


def _int(value: Any, what: str, lo: int = 0, hi: int = 2**31 - 1) -> int:
    try:
        out = int(value)
    except (TypeError, ValueError):
        msg = f"{what} must be an integer; got {value!r}"
        raise _Bad(msg) from None
    if not lo <= out <= hi:
        msg = f"{what} must lie in [{lo}, {hi}]; got {out}"
        raise _Bad(msg)
    return out


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            msg = f"has no '{'/'.join(keys)}'"
            raise _Bad(msg)
        node = node[key]
    return node


def check_booster_tree(model: Any) -> None:
    """Check the decoded structure of an XGBoost ``gbtree`` model.

    Raises
    ------
    ValueError
        If a count disagrees with the arrays it describes, an index points
        outside its array, a child does not follow its parent (a cycle), or
        a weight or split value is not finite.
    """
    try:
        _check_tree(model)
    except _Bad as exc:
        raise ValueError(str(exc)) from None


def _check_tree(model: Any) -> None:
    learner = _get(model, "learner")
    name = _get(learner, "gradient_booster", "name")
    if name not in ("gbtree", "dart"):
        msg = f"has booster {name!r}; gmlearn models use 'gbtree'"
        raise _Bad(msg)
    params = _get(learner, "learner_model_param")
    n_feature = _int(params.get("num_feature"), "learner_model_param.num_feature", 1, 10**6)
    _int(params.get("num_target", 1), "learner_model_param.num_target", 0, 1)
    _int(params.get("num_class", 0), "learner_model_param.num_class", 0, 0)
    base = str(params.get("base_score", "0")).strip("[]")
    try:
        scores = [float(v) for v in base.split(",") if v.strip()]
    except ValueError:
        scores = [math.nan]
    if not all(math.isfinite(v) for v in scores):
        msg = f"has base_score {params.get('base_score')!r}, which is not finite"
        raise _Bad(msg)
    gb = _get(learner, "gradient_booster")
    inner = gb.get("gbtree", gb) if name == "dart" else gb
    trees = _get(inner, "model", "trees")
    n_trees = _int(_get(inner, "model", "gbtree_model_param", "num_trees"), "num_trees", 0, 10**7)
    if not isinstance(trees, list) or len(trees) != n_trees:
        msg = f"declares num_trees {n_trees} but holds {len(trees) if isinstance(trees, list) else 'no list of'} trees"
        raise _Bad(msg)
    info = _get(inner, "model", "tree_info")
    if len(info) != n_trees:
        msg = f"has tree_info of length {len(info)} for {n_trees} trees"
        raise _Bad(msg)
    for k, tree in enumerate(trees):
        _check_one_tree(tree, k, n_feature)


def _check_one_tree(tree: Any, k: int, n_feature: int) -> None:
    n = _int(_get(tree, "tree_param", "num_nodes"), f"tree {k} num_nodes", 1, 2**31 - 2)
    size_leaf = _int(_get(tree, "tree_param").get("size_leaf_vector", 1), f"tree {k} size_leaf_vector", 0, 1)
    arrays = {}
    for key in _PER_NODE:
        arr = np.asarray(_get(tree, key))
        if arr.ndim != 1 or len(arr) != n:
            msg = f"tree {k}: '{key}' has {arr.size} values for num_nodes {n}"
            raise _Bad(msg)
        arrays[key] = arr
    del size_leaf
    for key in ("categories", "categories_nodes", "categories_segments", "categories_sizes"):
        if len(np.asarray(tree.get(key, []))) != 0:
            msg = f"tree {k} has categorical splits ('{key}'), which gmlearn models do not use"
            raise _Bad(msg)
    try:
        left = arrays["left_children"].astype(np.int64)
        right = arrays["right_children"].astype(np.int64)
        feat = arrays["split_indices"].astype(np.int64)
        values = np.concatenate([arrays["split_conditions"].astype(float), arrays["base_weights"].astype(float)])
    except (TypeError, ValueError):
        msg = f"tree {k} holds non-numeric node arrays"
        raise _Bad(msg) from None
    idx = np.arange(n)
    leaf = left == -1
    if not np.array_equal(leaf, right == -1):
        msg = f"tree {k}: a node has one child only"
        raise _Bad(msg)
    inner = ~leaf
    if (left[inner] <= idx[inner]).any() or (right[inner] <= idx[inner]).any() or (left[inner] >= n).any() or (right[inner] >= n).any():
        msg = f"tree {k}: child indices must follow their node and lie below num_nodes {n}"
        raise _Bad(msg)
    if ((feat[inner] < 0) | (feat[inner] >= n_feature)).any():
        msg = f"tree {k}: split_indices must lie in [0, {n_feature}) (num_feature)"
        raise _Bad(msg)
    if not np.isfinite(values).all():
        msg = f"tree {k}: split_conditions or base_weights hold a value that is not finite"
        raise _Bad(msg)


def check_booster_file(path: str | Path, *, max_bytes: int = 2**31) -> None:
    """Refuse an XGBoost model file that XGBoost could not read safely.

    Parameters
    ----------
    path
        A ``.ubj`` (UBJSON) or ``.json`` booster file.
    max_bytes
        Largest file read.

    Raises
    ------
    ModelError
        Naming the file and the first problem: a declared length larger than
        the file, truncation, trailing bytes, a structure XGBoost would
        mis-read (counts, indices, non-finite weights) or an unknown format.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        msg = f"{path} is {size} bytes, more than the {max_bytes} allowed for a booster file."
        raise ModelError(msg)
    data = path.read_bytes()
    try:
        if data[:1] == b"{" and data[1:2] in (b'"', b" ", b"\n", b"\r", b"\t", b"}"):
            decoded = json.loads(data)
        else:
            decoded = decode_ubjson(data)
        check_booster_tree(decoded)
    except (ValueError, RecursionError, UnicodeDecodeError, struct.error) as exc:
        msg = f"{path} is not a valid XGBoost model ({exc}); refusing to hand it to XGBoost."
        raise ModelError(msg) from None
