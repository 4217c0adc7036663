import re

from gmlearn.demo import run_demo


def test_demo_writes_linked_outputs(tmp_path):
    steps = []
    index = run_demo(tmp_path / "demo", n_splits=2, progress=lambda i, n, m: steps.append(m))
    html = index.read_text()
    assert "NZSMD crustal records (2319 records, 135 events" in html
    assert "Bradley2013" in html and "XGBoost" in html
    links = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert links and all((index.parent / link).is_file() for link in links)
    assert {"evaluation/rms.png", "evaluation/scores.csv"} <= set(links)
    assert steps[0].startswith("building") and steps[-1] == "done"
