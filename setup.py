"""Build steps pyproject.toml cannot declare (all other metadata is there).

- ``gmlearn-openquake.pth`` goes to the root of the wheel (site-packages): its
  one line, ``import _gmlearn_openquake``, lets stock OpenQuake resolve
  ``[GMLearnGSIM]`` lazily (see that module). setuptools has no declarative
  way to put a file at the top of site-packages. Editable installs
  (``pip install -e .``) get it too (``editable_wheel_with_pth``).
- ``docs/examples/hazard_*`` (the example OpenQuake jobs) are copied into
  ``gmlearn/hazard/example_jobs/`` so an installed wheel runs ``gmlearn demo``
  (:mod:`gmlearn.hazard.examples` finds them there or in a checkout).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

HERE = Path(__file__).parent
PTH = "gmlearn-openquake.pth"
EXAMPLES = HERE / "docs" / "examples"
EXAMPLES_IN_PACKAGE = Path("gmlearn") / "hazard" / "example_jobs"


class build_py_with_pth(build_py):  # noqa: N801 - setuptools command naming
    def run(self) -> None:
        super().run()
        self.copy_file(str(HERE / PTH), str(Path(self.build_lib) / PTH), preserve_mode=False)
        target = Path(self.build_lib) / EXAMPLES_IN_PACKAGE
        if EXAMPLES.is_dir() and not self.editable_mode:  # an editable install reads docs/examples itself
            shutil.rmtree(target, ignore_errors=True)
            for example in sorted(EXAMPLES.glob("hazard_*")):
                shutil.copytree(example, target / example.name, ignore=shutil.ignore_patterns("__pycache__"))

    def _extra(self) -> dict[str, str]:
        """Built file -> source file, for the .pth and (outside editable installs) the examples."""
        extra = {str(Path(self.build_lib) / PTH): str(HERE / PTH)}
        if EXAMPLES.is_dir() and not self.editable_mode:
            for src in sorted(EXAMPLES.glob("hazard_*/**/*")):
                if src.is_file() and "__pycache__" not in src.parts:
                    rel = src.relative_to(EXAMPLES)
                    extra[str(Path(self.build_lib) / EXAMPLES_IN_PACKAGE / rel)] = str(src)
        return extra

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *self._extra()]

    def get_output_mapping(self) -> dict[str, str]:
        return {**super().get_output_mapping(), **self._extra()}


class _StrategyWithPth:
    """Wraps an editable-install strategy so the editable wheel also carries the .pth file."""

    def __init__(self, strategy: object) -> None:
        self.strategy = strategy

    def __enter__(self) -> "_StrategyWithPth":
        self.strategy.__enter__()
        return self

    def __exit__(self, *exc: object) -> object:
        return self.strategy.__exit__(*exc)

    def __call__(self, wheel: object, files: list[str], mapping: dict[str, str]) -> None:
        self.strategy(wheel, files, mapping)
        wheel.writestr(PTH, (HERE / PTH).read_text())


class editable_wheel_with_pth(editable_wheel):  # noqa: N801 - setuptools command naming
    """``pip install -e .`` (``make install``) gets the start-up hook too; the hook module
    itself is found through the editable finder, whose .pth sorts (and runs) first."""

    def _select_strategy(self, *args: object, **kwargs: object) -> object:
        return _StrategyWithPth(super()._select_strategy(*args, **kwargs))


cmdclass = {"build_py": build_py_with_pth}
if hasattr(editable_wheel, "_select_strategy"):  # a private setuptools method: without it, no hook in editable installs
    cmdclass["editable_wheel"] = editable_wheel_with_pth
setup(cmdclass=cmdclass)
