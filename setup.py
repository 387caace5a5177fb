"""Builds the Cython hot path (every _ext/*.pyx becomes sidecar._ext.<name>); metadata is in pyproject.toml."""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        f"sidecar._ext.{pyx.stem}",
        [str(pyx)],
        extra_compile_args=["-O3"],
    )
    for pyx in sorted(Path("_ext").glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": True, "wraparound": False, "cdivision": True},
    )
)
