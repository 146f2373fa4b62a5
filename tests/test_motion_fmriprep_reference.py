"""Power FD equals the framewise_displacement column written by fMRIPrep itself.

nilearn ships a confounds file produced by fMRIPrep (v21 layout) in its test data; its
FD column was computed by fMRIPrep/nipype, not by us, so this is an external check of
both the reader (units: mm and rad) and the FD definition (first frame: n/a in fMRIPrep,
0 in mrsim).
"""

from pathlib import Path

import nilearn
import numpy as np
import pytest

from mrsim.motion.fd import power_fd
from mrsim.motion.formats import read_trajectory

CONFOUNDS = (
    Path(nilearn.__file__).parent
    / "interfaces"
    / "fmriprep"
    / "data"
    / "test-v21_desc-confounds_timeseries.tsv"
)


@pytest.mark.skipif(not CONFOUNDS.exists(), reason="nilearn build without its fMRIPrep test data")
def test_power_fd_matches_fmriprep_column():
    header = CONFOUNDS.read_text().splitlines()[0].split("\t")
    rows = np.genfromtxt(CONFOUNDS, delimiter="\t", skip_header=1, missing_values="n/a")
    fd_fmriprep = rows[:, header.index("framewise_displacement")]
    traj = read_trajectory(CONFOUNDS, format="fmriprep", tr_s=2.0)
    fd = power_fd(traj)
    assert np.isnan(fd_fmriprep[0]) and fd[0] == 0.0
    assert fd_fmriprep[1:].max() > 1.0  # real, non-trivial motion
    np.testing.assert_allclose(fd[1:], fd_fmriprep[1:], rtol=1e-9, atol=1e-9)
