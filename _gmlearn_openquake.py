"""Let stock OpenQuake (``oq engine --run``, ``oq run``, ``oq info``) resolve ``[GMLearnGSIM]``.

The wheel installs ``gmlearn-openquake.pth`` next to this module; Python runs
its one line, ``import _gmlearn_openquake``, at start-up. This module imports
only :mod:`sys` and adds one finder to :data:`sys.meta_path` that waits for
``openquake.hazardlib.gsim.base``. When OpenQuake imports that module, its
GSIM ``registry`` dict is swapped for a subclass whose ``__missing__`` imports
:mod:`gmlearn.hazard.gsim` the first time a job names ``GMLearnGSIM`` (the
class registers itself when defined). Nothing of gmlearn, numpy or OpenQuake
is imported before then, so interpreters that never resolve that name pay
only for this file. Set ``GMLEARN_NO_OQ_HOOK=1`` to leave OpenQuake untouched.
"""

import os
import sys

__all__ = ["LAZY_GSIMS", "install"]

#: GSIM class name -> the gmlearn module that defines (and so registers) it.
LAZY_GSIMS = {"GMLearnGSIM": "gmlearn.hazard.gsim"}
_TARGET = "openquake.hazardlib.gsim.base"


class _LazyRegistry(dict):
    """OpenQuake's GSIM registry, importing gmlearn's GSIMs on first lookup."""

    def _load(self, name):
        module = LAZY_GSIMS.get(name)
        if module is not None and not dict.__contains__(self, name):
            __import__(module)
        return dict.__contains__(self, name)

    def __missing__(self, name):
        if self._load(name):
            return dict.__getitem__(self, name)
        raise KeyError(name)

    def __contains__(self, name):
        return dict.__contains__(self, name) or self._load(name)

    def get(self, name, default=None):
        return self[name] if name in self else default


class _Finder:
    """Finds nothing itself; patches OpenQuake's gsim.base once it is loaded."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _TARGET:
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module):
            try:
                del loader.exec_module  # back to the loader's own method
            except AttributeError:
                pass
            exec_module(module)
            if module.__name__ == _TARGET and type(getattr(module, "registry", None)) is dict:
                module.registry = _LazyRegistry(module.registry)

        loader.exec_module = exec_and_patch
        _remove()
        return spec


def _remove():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]


def install():
    """Add the finder (once); patch the registry now if OpenQuake's gsim.base is already imported."""
    base = sys.modules.get(_TARGET)
    if base is not None:
        if type(base.registry) is dict:
            # names bound before the swap (valid.py's ``from ... import registry``) keep the plain dict:
            # update it in place instead
            for name, module in LAZY_GSIMS.items():
                if name not in base.registry:
                    __import__(module)
        return
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


if not os.environ.get("GMLEARN_NO_OQ_HOOK"):
    install()
