"""Every row of the bad-input table (tests/bad_input_cases.py, docs/errors.md) as a test.

Commands run in-process (``mrsim.cli.main``) in one folder of small inputs, so the table costs
seconds, not one interpreter start per row.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from bad_input_cases import BEGIN, CASES, DOC, END, Case, render_table  # noqa: E402
from bad_input_files import make_inputs  # noqa: E402


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad_inputs")
    make_inputs(d)
    return d


def _run(case: Case, folder: Path, capsys) -> tuple[int, str, str]:
    import shlex

    import mrsim.dataset.recipe
    import mrsim.motion.fd
    import mrsim.phantoms.mni152
    from mrsim.cli import main
    from mrsim.errors import MrsimInputError

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        if case.is_library:
            env = {"mrsim": mrsim, "np": np}
            try:
                value = eval(case.tried[4:], env)  # noqa: S307 - our own table
                print(value)
                status = 0
            except MrsimInputError as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 2
        else:
            try:
                status = main(shlex.split(case.tried))
            except SystemExit as exc:  # argparse
                status = int(exc.code or 0)
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    return status, out, err


def _id(case: Case) -> str:
    return f"g{case.group}-" + "_".join(case.tried.replace("lib:", "").split()[:4])[:60]


@pytest.mark.parametrize("case", CASES, ids=[f"{k + 1}-{_id(c)}" for k, c in enumerate(CASES)])
def test_bad_input_row(case: Case, inputs: Path, capsys) -> None:
    status, out, err = _run(case, inputs, capsys)
    text = out + err
    if case.outcome == "error":  # a one-line user error
        assert status == 2, text
        assert len([ln for ln in err.splitlines() if "error:" in ln]) == 1, err
    elif case.outcome == "report":  # `dataset info --verify` listing the problems
        assert status == 1, text
    else:
        assert status == 0, text
    if case.outcome == "warning":
        assert "warning:" in err, err
        assert len([ln for ln in err.splitlines() if "warning:" in ln]) == 1, err
    for s in (case.gets, *case.also):
        assert s in text, f"expected {s!r} in:\n{text}"
    for s in case.never:
        assert s not in text, f"did not expect {s!r} in:\n{text}"
    for rel in case.absent:
        assert not (inputs / rel).exists(), f"{rel} was left behind"


def test_docs_table_is_the_case_list() -> None:
    text = DOC.read_text()
    assert BEGIN in text and END in text
    table = text.split(BEGIN)[1].split(END)[0].strip()
    assert table == render_table(), "run `python tests/bad_input_cases.py` to update docs/errors.md"
    assert f"{len(CASES)} cases" in text
