"""CSV prediction in chunks (bounded memory) and out-of-range counts that agree across the streamed paths."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gmlearn.cli import app
from gmlearn.distributed.predict import predict_csv, predict_parquet
from gmlearn.exceptions import MissingColumnError, OutOfRangeWarning
from gmlearn.gmpe.persistence import save_model


@pytest.fixture(scope="module")
def wide(nzsmd_table, small_tree) -> pd.DataFrame:
    """NZSMD records (all regions: many outside the crustal model's ranges), with the model's features."""
    cols = list(dict.fromkeys(["record_id", *small_tree.required_features]))
    return nzsmd_table[cols].iloc[:1500].reset_index(drop=True)


def _whole_counts(model, table) -> dict[str, int]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OutOfRangeWarning)
        model.predict(table)
    counts = {}
    for w in caught:
        text = str(w.message)
        n = int(text.split(": ", 1)[1].split(" ")[0])
        name = text.split(" have ")[1].split(" outside")[0] if " have " in text else "domain"
        counts[name] = counts.get(name, 0) + n
    return counts


def test_csv_prediction_streams_and_matches_the_whole_table(small_tree, wide, tmp_path):
    wide.to_csv(tmp_path / "in.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = predict_csv(small_tree, tmp_path / "in.csv", tmp_path / "out.csv", chunk_rows=200)
        expected = small_tree.predict(wide)
    out = pd.read_csv(tmp_path / "out.csv")
    assert result.rows == len(wide) == len(out) and result.parts == 8
    assert list(out.columns[:len(wide.columns)]) == list(wide.columns)
    for i, imt in enumerate(expected.imts):
        np.testing.assert_allclose(out[f"{imt}_ln_mean"], expected.mean[i], atol=1e-4)
        np.testing.assert_allclose(out[f"{imt}_median_g"], np.exp(out[f"{imt}_ln_mean"]), rtol=1e-12)
        np.testing.assert_allclose(out[f"{imt}_sigma"], expected.sigma[i], rtol=1e-12)
    assert list(out["record_id"]) == list(wide["record_id"])


def test_out_of_range_counts_agree_across_paths(small_tree, wide, tmp_path):
    whole = _whole_counts(small_tree, wide)
    assert whole and sum(whole.values()) > 100  # the check needs rows outside the ranges
    wide.to_csv(tmp_path / "in.csv", index=False)
    wide.to_parquet(tmp_path / "in.parquet", row_group_size=150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        csv = predict_csv(small_tree, tmp_path / "in.csv", tmp_path / "out.csv", chunk_rows=170)
        parquet = predict_parquet(small_tree, tmp_path / "in.parquet", tmp_path / "out", chunk_rows=150)
    assert csv.out_of_range_rows == parquet.out_of_range_rows == whole
    assert parquet.parts == 10
    for key, n in whole.items():  # one line per kind, with the count over all batches
        assert any(line.split(": ", 1)[1].startswith(f"{n} ") and (key in line or key == "domain")
                   for line in parquet.out_of_range.splitlines())


def test_csv_prediction_errors(small_tree, wide, tmp_path):
    wide.drop(columns=["mag"]).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(MissingColumnError, match=r"requires column\(s\) \['mag'\]"):
        predict_csv(small_tree, tmp_path / "in.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    with pytest.raises(ValueError, match="'chunk_rows' parameter of predict_csv"):
        predict_csv(small_tree, tmp_path / "in.csv", tmp_path / "out.csv", chunk_rows=0)


def test_cli_csv_to_csv_streams(small_tree, wide, tmp_path):
    model = save_model(small_tree, tmp_path / "model")
    wide.to_csv(tmp_path / "in.csv", index=False)
    res = CliRunner().invoke(app, ["predict", str(model), str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"),
                                   "--chunk-rows", "400"])
    assert res.exit_code == 0, res.output
    assert f"wrote {len(wide)} rows" in res.output and "outside the training range" in res.output
    assert len(pd.read_csv(tmp_path / "o.csv")) == len(wide)
