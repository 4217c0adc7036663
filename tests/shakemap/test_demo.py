import json


def test_demo_contract(tmp_path, bssa14):
    from gmlearn.shakemap.demo import run

    steps = []
    result = run(tmp_path, model=bssa14, progress=lambda step, total, message: steps.append((step, total)))
    assert set(result) == {"title", "paragraph", "files", "image"}
    assert "Kaikoura" in result["title"] and "160" in result["paragraph"] and "BooreEtAl2014" in result["paragraph"]
    assert result["image"] in result["files"]
    for rel in result["files"]:
        assert (tmp_path / rel).is_file() and not rel.startswith("/")
    assert {"shakemap.nc", "map_PGA.png", "contours_PGA.geojson", "map_MMI.png", "contours_MMI.geojson", "grid.xml",
            "uncertainty.xml"} <= set(result["files"])
    assert "Modified Mercalli" in result["paragraph"]
    assert json.loads((tmp_path / "contours_PGA.geojson").read_text())["features"]
    assert steps[-1][0] == steps[-1][1]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(result["files"])  # no stray files
