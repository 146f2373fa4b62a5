"""``mrsim info``: versions, NUFFT backends, threads and where the embedded data lives."""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("numpy", "scipy", "finufft", "sigpy", "nibabel", "h5py", "nilearn", "torch", "monai")


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def collect_info() -> dict[str, object]:
    """Everything ``mrsim info`` prints, as a dict (also stored in dataset attributes)."""
    from mrsim import __version__
    from mrsim.phantoms.mni152 import MNI152_FILES, mni152_data_dir

    backends = [b for b in ("finufft", "sigpy") if importlib.util.find_spec(b) is not None]
    try:
        n_avail = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n_avail = os.cpu_count() or 1
    data_dir = mni152_data_dir()
    return {
        "mrsim": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in PACKAGES},
        "nufft_backends": backends,
        "cpu_count": os.cpu_count(),
        "cpus_available": n_avail,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "embedded_data": {
            "source": "MNI152 ICBM 2009a nonlinear symmetric, bundled in the nilearn wheel",
            "folder": str(data_dir),
            "files": {k: (f, (data_dir / f).exists()) for k, f in MNI152_FILES.items()},
        },
    }


def run(args: argparse.Namespace) -> int:
    info = collect_info()
    print(f"mrsim {info['mrsim']}  (Python {info['python']}, {info['platform']})")
    print("packages:")
    for name, ver in info["packages"].items():
        print(f"  {name:10s} {ver}")
    print(f"NUFFT backends: {', '.join(info['nufft_backends']) or 'none'} (default: finufft)")
    print(
        f"threads: {info['cpus_available']} CPUs available of {info['cpu_count']}; "
        f"OMP_NUM_THREADS={info['omp_num_threads']}"
    )
    emb = info["embedded_data"]
    print(f"embedded phantom: {emb['source']}")
    print(f"  folder: {emb['folder']}")
    for kind, (fname, ok) in emb["files"].items():
        print(f"  {kind:3s} {fname} {'ok' if ok else 'MISSING'}")
    print("  csf, mask: derived from t1/gm/wm (see mrsim.phantoms.mni152)")
    return 0


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = subparsers.add_parser(name, help=help_text, description=__doc__)
    p.set_defaults(func=run)
