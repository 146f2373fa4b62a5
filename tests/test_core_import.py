"""The core package imports and runs without torch (DESIGN.md)."""

import subprocess
import sys

CODE = r"""
import importlib, pkgutil, sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError
import mrsim
failed = []
for m in pkgutil.walk_packages(mrsim.__path__, "mrsim."):
    if m.name.endswith("__main__"):
        continue
    try:
        importlib.import_module(m.name)
    except ImportError as exc:
        failed.append((m.name, str(exc)))
print(failed)
sys.exit(1 if failed else 0)
"""


def test_mrsim_imports_without_torch():
    res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_cli_info_runs():
    res = subprocess.run(
        [sys.executable, "-m", "mrsim", "info"], capture_output=True, text=True, check=True
    )
    assert "NUFFT backends: finufft" in res.stdout
    assert "mni_icbm152_t1" in res.stdout
