"""The generated-kernel cache never runs code planted in it (issue 20).

``mrsim.kspace.line_interp`` writes its generated numba kernels to
``$MRSIM_CACHE_DIR/line_kernels`` and numba keeps machine code (pickles) in the
``__pycache__`` beside them. A planted file with the expected name must not be executed and
must be replaced; a folder other users can write must not be used at all.
"""

import hashlib
import os
import pickle
import stat
import sys

import pytest

from mrsim.kspace import line_interp

SOURCE = "import numba\n\n\n@numba.njit(cache=True)\ndef kernel(x):\n    return x + 40\n"


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _fresh(name):
    sys.modules.pop(name, None)


def test_planted_kernel_with_expected_name_is_not_executed_and_is_replaced(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("MRSIM_CACHE_DIR", str(cache))
    name, digest = line_interp._kernel_file(SOURCE, "sec")
    assert digest == hashlib.sha256(SOURCE.encode()).hexdigest() and digest[:16] in name
    folder = cache / "line_kernels"
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(cache, 0o700)
    marker = tmp_path / "planted_ran"
    planted = folder / f"{name}.py"
    planted.write_text(f"open({str(marker)!r}, 'w').close()\ndef kernel(x):\n    return -1\n")
    _fresh(name)
    module = line_interp._load_generated(SOURCE, "sec")
    assert not marker.exists()
    assert module.kernel(2) == 42
    assert planted.read_text() == SOURCE  # replaced by the generated source
    # a planted file of the same length (only a hash/content check catches it)
    same_len = SOURCE.replace("x + 40", "x - 40")
    assert len(same_len) == len(SOURCE)
    planted.write_text(same_len)
    _fresh(name)
    assert line_interp._load_generated(SOURCE, "sec").kernel(2) == 42
    assert planted.read_text() == SOURCE


def test_planted_symlink_is_replaced_not_followed(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("MRSIM_CACHE_DIR", str(cache))
    name, _ = line_interp._kernel_file(SOURCE, "link")
    folder = cache / "line_kernels"
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(cache, 0o700)
    elsewhere = tmp_path / "victim.txt"
    elsewhere.write_text("keep me")
    (folder / f"{name}.py").symlink_to(elsewhere)
    _fresh(name)
    assert line_interp._load_generated(SOURCE, "link").kernel(0) == 40
    assert elsewhere.read_text() == "keep me"
    assert not (folder / f"{name}.py").is_symlink()


def test_new_cache_folders_are_owner_only(tmp_path, monkeypatch):
    cache = tmp_path / "a" / "b"
    monkeypatch.setenv("MRSIM_CACHE_DIR", str(cache))
    name, _ = line_interp._kernel_file(SOURCE, "perm")
    _fresh(name)
    line_interp._load_generated(SOURCE, "perm")
    for folder in (
        tmp_path / "a",
        cache,
        cache / "line_kernels",
        cache / "line_kernels" / "__pycache__",
    ):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    written = cache / "line_kernels" / f"{name}.py"
    assert stat.S_IMODE(written.stat().st_mode) & 0o077 == 0


def _plant_numba_index(cache, name, marker):
    """The kernel file plus a numba cache index (a pickle) carrying the payload."""
    pycache = cache / "line_kernels" / "__pycache__"
    pycache.mkdir(parents=True, exist_ok=True)
    (cache / "line_kernels" / f"{name}.py").write_text(SOURCE)
    # the index numba reads for `kernel` (decorator on line 4 of SOURCE); see the control below
    index = pycache / f"{name}.kernel-4.py{sys.version_info[0]}{sys.version_info[1]}.nbi"
    with open(index, "wb") as fh:
        pickle.dump(_Payload(marker), fh)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_group_writable_cache_is_not_used_and_its_numba_pickles_never_load(tmp_path, monkeypatch):
    name, _ = line_interp._kernel_file(SOURCE, "shared")
    # control: in a private folder numba does unpickle its index (why folders must be private)
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    control = tmp_path / "control_ran"
    _plant_numba_index(private, name, control)
    monkeypatch.setenv("MRSIM_CACHE_DIR", str(private))
    _fresh(name)
    try:
        line_interp._load_generated(SOURCE, "shared").kernel(1)
    except Exception:  # the payload returns a file object where numba expects its index
        pass
    assert control.exists(), "the planted index was not read: the test below would prove nothing"
    # a team folder anyone can write to: not used at all
    shared = tmp_path / "shared"
    shared.mkdir()
    marker = tmp_path / "numba_index_ran"
    _plant_numba_index(shared, name, marker)
    os.chmod(shared, 0o777)
    monkeypatch.setenv("MRSIM_CACHE_DIR", str(shared))
    _fresh(name)
    with pytest.warns(RuntimeWarning, match="writable by group or others"):
        module = line_interp._load_generated(SOURCE, "shared")
    assert module.kernel(1) == 41
    assert not marker.exists()


def test_cache_owned_by_someone_else_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "c"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(folder).st_uid + 1)
    with pytest.raises(line_interp.UntrustedCacheError, match="owned by uid"):
        line_interp._private_folder(folder)
