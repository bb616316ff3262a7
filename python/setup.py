"""Builds the nereid package: the pure-Python sources in nereid/ plus the native module
nereid._core, which CMake builds from the repository (the same target `./nereid.sh test` builds).

    /usr/bin/python3 -m pip install --no-build-isolation ./python

Needs the Debian packages of nereid.sh (cmake, ninja, pybind11-dev, python3-dev, ...); no network.
"""

import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        pkg_dir = os.path.join(build_dir, "pypkg")
        os.makedirs(build_dir, exist_ok=True)
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.check_call(
            ["cmake", "-S", ROOT, "-B", build_dir, *generator, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
             "-DNEREID_BUILD_TESTS=OFF", "-DNEREID_BUILD_BENCH=OFF", "-DNEREID_BUILD_PYTHON=ON",
             f"-DPython_EXECUTABLE={sys.executable}", f"-DNEREID_PYTHON_PACKAGE_DIR={pkg_dir}"])
        jobs = os.environ.get("NEREID_JOBS", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "nereid_python",
                               "-j", jobs])
        built = glob.glob(os.path.join(pkg_dir, "nereid", "_core*.so"))
        if not built:
            raise RuntimeError("CMake did not produce nereid/_core*.so")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    name="nereid",
    version="0.1.0",
    description="Python client of the Nereid experiment tracker (Neptune-compatible API)",
    packages=["nereid", "nereid.compat"],
    package_data={"nereid": ["py.typed", "*.pyi"]},
    ext_modules=[Extension("nereid._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    zip_safe=False,
)
