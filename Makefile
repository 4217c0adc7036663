# The two commands of the README: `make demo` and `make test`.
# Both create .venv when missing and install gmlearn with all extras.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# OpenQuake compiles numba code on first import (~60 s); cache it inside the venv.
export NUMBA_CACHE_DIR := $(CURDIR)/$(VENV)/numba_cache
export MPLBACKEND := Agg
export OQ_DISTRIBUTE := no

.PHONY: install demo test lint benchmark datasets clean browser

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all]"
	$(PY) -c "import openquake.hazardlib.contexts, openquake.hazardlib.gsim.bradley_2013"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/gmlearn demo --out gmlearn-demo --overwrite

# The report tests drive Debian's Chromium headless; CI machines start without it.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Two pytest workers on two cores: keep BLAS single-threaded to avoid oversubscription.
test: install browser
	OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 -q -m "not slow and not gpu"

lint: install
	$(VENV)/bin/ruff check gmlearn tests benchmarks data_recipes

benchmark: install
	$(PY) benchmarks/accuracy.py

datasets: install
	$(PY) data_recipes/build_datasets.py

clean:
	rm -rf $(VENV) gmlearn-demo .pytest_cache
