"""Processes and signals: Ctrl-C, a closed output pipe, pool workers dying with their parent.

These need real subprocesses (a few seconds each); the worker test is marked slow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TOY = """name = "toy_signals"
kind = "toy"
seed = 3
samples_per_shard = 1
[subjects]
n = 200
[split]
train = 198
val = 1
test = 1
[params]
samples_per_subject = 1
variants = ["rot"]
shape = [24, 48, 48]
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _default_sigint() -> None:
    # as from a shell: a test runner (or a library it ran) may ignore SIGINT, and an
    # ignored signal stays ignored across exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _mrsim(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mrsim", *args],
        env=_env(),
        stdout=kw.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
        **kw,
    )


def _wait_for(path: Path, timeout_s: float = 60.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"{path} did not appear within {timeout_s} s")
        time.sleep(0.1)


@pytest.mark.parametrize(
    "workers", ["1", pytest.param("2", marks=pytest.mark.slow, id="2-workers")]
)
def test_ctrl_c_prints_one_line_and_exits_130(tmp_path: Path, workers: str) -> None:
    recipe = tmp_path / "toy.toml"
    recipe.write_text(TOY)
    out = tmp_path / "ds"
    proc = _mrsim(
        "dataset",
        "build",
        str(recipe),
        "--out",
        str(out),
        "--no-progress",
        "--workers",
        workers,
        start_new_session=True,
    )
    _wait_for(out / "plan.json")  # the build is under way
    t0 = time.monotonic()
    while not list((out / "shards").glob("shard-*.h5")) and time.monotonic() - t0 < 60:
        time.sleep(0.05)  # the first shard is written: workers are running
    # Ctrl-C in a terminal signals the whole foreground process group, workers included
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the build finished before the signal arrived")
    assert proc.returncode == 130, err
    assert "mrsim dataset: interrupted; re-run to resume" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    # re-running resumes and completes
    again = _mrsim("dataset", "build", str(recipe), "--out", str(out), "--no-progress")
    _, err2 = again.communicate(timeout=300)
    assert again.returncode == 0, err2


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    motion = tmp_path / "m.csv"
    rows = "\n".join(f"{i},{0.01 * i},0,0,0,0,0" for i in range(50))
    motion.write_text("t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n" + rows + "\n")
    proc = _mrsim("fd", str(motion))
    proc.stdout.close()  # like `| head -1` having exited: the reader is gone before the output
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "Broken pipe" not in err and "Traceback" not in err, err
    assert proc.returncode == 0, err


@pytest.mark.slow
def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    recipe = tmp_path / "toy.toml"
    recipe.write_text(TOY.replace("shape = [24, 48, 48]", "shape = [48, 96, 96]"))
    out = tmp_path / "ds"
    proc = _mrsim(
        "dataset", "build", str(recipe), "--out", str(out), "--workers", "2", "--no-progress"
    )
    _wait_for(out / "plan.json")
    deadline = time.monotonic() + 60
    children: list[int] = []
    while time.monotonic() < deadline and len(children) < 2:
        children = _children(proc.pid)
        time.sleep(0.2)
    assert children, "no worker processes started"
    proc.kill()  # kill -9: no cleanup code runs in the parent
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    alive = [p for p in children if _alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in children if _alive(p)]
    assert not alive, f"workers {alive} outlived their parent"


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
