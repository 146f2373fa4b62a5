"""The recipes are package data: ``mrsim dataset build mcnet_mprage`` works after a plain
(non-editable) install from a wheel, in a fresh virtual environment."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_install_ships_the_recipes(tmp_path):
    pytest.importorskip("hatchling")  # the build backend (dev extra); no download here
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("mrsim-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies (numpy, finufft, h5py...) come from this environment's site-packages;
    # a .pth path adds them without their .pth files, so the editable mrsim is not seen.
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    Path(site, "deps.pth").write_text(deps + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
    )
    work = tmp_path / "run"  # not the source tree: nothing there may shadow the install
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MRSIM_CACHE_DIR"] = str(tmp_path / "cache")
    where = subprocess.run(
        [str(py), "-c", "import mrsim.dataset.recipe as r; print(r.__file__); print(r.RECIPE_DIR)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
    ).stdout.split()
    assert where[0].startswith(str(env_dir)) and where[1].startswith(str(env_dir))
    assert Path(where[1], "mcnet_mprage.toml").is_file()
    out = subprocess.run(
        [
            str(py),
            "-m",
            "mrsim",
            "dataset",
            "build",
            "mcnet_mprage",
            "--small",
            "--out",
            str(work / "data"),
            "--no-progress",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert (work / "data" / "dataset.h5").is_file()
