"""mrsim: k-space-centric simulation of head motion in MRI.

The core package needs NumPy/SciPy/finufft only; PyTorch lives in ``correctors``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mrsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
