import pytest

from gmlearn.exceptions import InvalidIMTError, SchemaError
from gmlearn.schema import COLUMNS, IMT, column, columns_of, imt_string, is_imt, parse_imt, sort_imts


@pytest.mark.parametrize(
    ("text", "expected"),
    [("PGA", "PGA"), ("PGV", "PGV"), ("SA(1)", "SA(1.0)"), ("SA(0.2)", "SA(0.2)"), (" SA( 0.075 ) ", "SA(0.075)"),
     ("SA(1e-2)", "SA(0.01)"), ("SA(10.000)", "SA(10.0)")],
)
def test_imt_canonical(text, expected):
    assert imt_string(text) == expected
    assert is_imt(text)


def test_imt_matches_openquake():
    from openquake.hazardlib import imt as oq_imt

    for text in ("PGA", "PGV", "SA(0.2)", "SA(1)", "SA(3.0)", "SA(0.075)"):
        assert imt_string(text) == oq_imt.from_string(text).string


@pytest.mark.parametrize("bad", ["pga", "SA", "SA()", "SA(-1)", "SA(0)", "SA(25)", "PGD", "", 1.0, None])
def test_bad_imt_names_value(bad):
    with pytest.raises(InvalidIMTError) as err:
        parse_imt(bad)
    assert repr(bad) in str(err.value) or str(bad) in str(err.value)
    assert not is_imt(bad) if isinstance(bad, str) else True


def test_imt_units_and_order():
    assert parse_imt("PGV").unit == "cm/s"
    assert parse_imt("SA(1.0)") == IMT("SA", 1.0)
    assert sort_imts(["SA(3.0)", "PGV", "SA(0.2)", "PGA", "SA(1)"]) == ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]


def test_columns_have_units_and_tables():
    assert {c.table for c in COLUMNS.values()} == {"events", "stations", "records"}
    assert column("rrup").unit == "km" and column("vs30").unit == "m/s" and column("z2pt5").unit == "km"
    assert column("z1pt0").unit == "m"
    assert [c.name for c in columns_of("events")][0] == "event_id"
    with pytest.raises(SchemaError, match="Unknown column 'foo'"):
        column("foo")
    with pytest.raises(SchemaError, match="'table' parameter"):
        columns_of("sites")
