"""Build the cffi extension (API mode, out of line) with setuptools.

    pip install --no-build-isolation ./examples/python

finds the installed library with pkg-config (or VPNR_INCLUDE_DIRS /
VPNR_LIBRARY_DIRS).  Metadata lives in pyproject.toml.
"""
from setuptools import setup

setup(cffi_modules=["vpnroute/_build.py:ffibuilder"])
