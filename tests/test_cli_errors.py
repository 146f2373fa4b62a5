"""The command line: user errors are one line with exit 2, bugs keep their traceback."""

import argparse

import pytest

from mrsim.cli import CLIError, main
from mrsim.command import run_command, user_input
from mrsim.errors import MrsimInputError


def _parser(func):
    p = argparse.ArgumentParser(prog="t")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("go").set_defaults(func=func)
    return p


def test_user_error_is_one_line_exit_2(capsys):
    def bad(args):
        raise MrsimInputError("in.nii: expected a 3D volume")

    assert run_command(_parser(bad), ["go"], "t") == 2
    err = capsys.readouterr().err
    assert err == "t go: error: in.nii: expected a 3D volume\n"


def test_other_exceptions_keep_their_traceback():
    def bug(args):
        raise ValueError("index mix-up inside the engine")

    with pytest.raises(ValueError, match="index mix-up"):
        run_command(_parser(bug), ["go"], "t")

    def bug2(args):
        raise KeyError("oops")

    with pytest.raises(KeyError):
        run_command(_parser(bug2), ["go"], "t")


def test_user_input_names_the_file():
    with pytest.raises(MrsimInputError, match="^a.csv: bad header"):
        with user_input("a.csv"):
            raise ValueError("bad header")
    with pytest.raises(MrsimInputError, match="^a.csv: too short"):
        with user_input("a.csv", convert=False):
            raise MrsimInputError("too short")
    with pytest.raises(ValueError, match="^not a user error$"):
        with user_input("a.csv", convert=False):
            raise ValueError("not a user error")
    assert issubclass(CLIError, MrsimInputError)


def test_mrsim_missing_input_file(tmp_path, capsys):
    rc = main(["corrupt", "--trajectory", str(tmp_path / "none.csv"), "-o", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("mrsim corrupt: error:") and "none.csv" in err
    assert err.count("\n") == 1


def test_correctors_do_not_import_mrsim_cli():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "correctors"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("mrsim.cli"), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("mrsim.cli") for a in node.names), path
