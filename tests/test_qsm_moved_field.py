"""Field of a moved chi by the rotation identity (mrsim.qsm.moved_field, issue 17)."""

import numpy as np
import pytest

from mrsim.kspace.engine import rigid_move
from mrsim.motion.rigid import rotation_matrix
from mrsim.qsm.dipole import dipole_field
from mrsim.qsm.motion import QSMMotionSettings
from mrsim.qsm.moved_field import HeadFrameField

N = 32
VOX = (1.5, 1.5, 1.5)


@pytest.fixture(scope="module")
def chi():
    g = (np.arange(N) - N // 2) * VOX[0]
    X, Y, Z = np.meshgrid(g, g, g, indexing="ij")
    # compact sources (zero at the FOV edge), off-centre so rotations change the field
    blob = np.exp(-((X - 4) ** 2 + (Y + 3) ** 2 + (Z - 2) ** 2) / (2 * 3.0**2))
    return 0.1 * blob - 0.05 * np.exp(-((X + 5) ** 2 + Y**2 + (Z + 4) ** 2) / (2 * 2.5**2))


@pytest.mark.parametrize(
    "rot_deg, t_mm",
    [((90, 0, 0), (0, 0, 0)), ((0, 90, 0), (3.0, 0, -1.5)), ((0, 0, 90), (0, 1.5, 0))],
)
def test_grid_permutation_poses_equal_the_field_of_the_moved_chi(chi, rot_deg, t_mm):
    """90 deg rotations and whole-voxel shifts map the grid onto itself, so the field of
    the moved chi (moved exactly, then convolved with the scanner-frame kernel) is the
    truth; the head-frame field read at the moved voxels must equal it."""
    R = rotation_matrix(np.asarray(rot_deg, float))
    t = np.asarray(t_mm, float)
    st = QSMMotionSettings().updated(eps=1e-10)
    moved_chi = rigid_move(chi, R, t, VOX, eps=1e-10)
    truth = dipole_field(moved_chi, VOX, st.b0_dir_array())
    got = HeadFrameField(chi, VOX, st).moved(R, t)
    assert np.linalg.norm(truth - dipole_field(chi, VOX)) > 0.3 * np.linalg.norm(truth)
    np.testing.assert_allclose(got, truth, atol=1e-8 * np.abs(truth).max())


def test_still_is_the_unmoved_field(chi):
    st = QSMMotionSettings()
    np.testing.assert_array_equal(HeadFrameField(chi, VOX, st).still(), dipole_field(chi, VOX))
