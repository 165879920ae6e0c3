"""Metadata lives in pyproject.toml. This file only adds, when AIOPS_COMPILE=1 (the image build),
the router's hot path compiled with mypyc: the modules [tool.aiops].compiled lists."""

import os
import tomllib
from pathlib import Path

from setuptools import setup

ext_modules = []
if os.environ.get("AIOPS_COMPILE") == "1":
    from mypyc.build import mypycify  # needs mypy and a C compiler: the image's build stage has both

    config = tomllib.loads((Path(__file__).parent / "pyproject.toml").read_text())
    ext_modules = mypycify(config["tool"]["aiops"]["compiled"], opt_level="3")

setup(ext_modules=ext_modules)
