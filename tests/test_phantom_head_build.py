"""The faster head build equals the old one bit for bit (every fraction map, labels,
affine): compared against the frozen copy of the code before the speed work
(tests/head_build_reference.py); figures in docs/head_phantom.md, "Build speed"."""

from unittest import mock

import numpy as np
import pytest
from head_build_reference import make_head_v1

from mrsim.dataset import head_subjects
from mrsim.dataset.subjects import DOMAIN_SUBJECT
from mrsim.errors import MrsimInputError
from mrsim.phantoms.head import make_head

#: a subject of the shipped mcnet_mprage recipe (datasets/mcnet_mprage.toml, seed 2019)
SPEC = {
    "source": "synthetic",
    "subject": 0,
    "seed": [2019, DOMAIN_SUBJECT, 0],
    "deform_mm": 3.0,
    "smooth_mm": 15.0,
    "scale_jitter": 0.05,
    "contrast_jitter": 0.15,
}


def assert_same_head(new, old):
    assert new.names == old.names
    assert new.fractions.dtype == old.fractions.dtype and new.labels.dtype == old.labels.dtype
    assert np.array_equal(new.fractions, old.fractions)
    assert np.array_equal(new.labels, old.labels)
    assert np.array_equal(new.affine, old.affine)
    assert new.info == old.info
    assert new.tissues == old.tissues


def synthetic_head_v1(spec, shape, vox):
    with mock.patch.object(head_subjects, "make_head", make_head_v1):
        return head_subjects.synthetic_head(spec, shape, vox)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (((44, 64, 64), 4.0), {}),
        (((24, 24, 64), 1.0), {"centre_mm": (0.0, -20.0, 70.0), "thickness_mm": {"fat": 6.0}}),
        (((48, 56, 40), (2.0, 2.5, 3.0)), {}),  # anisotropic, dyadic: the compiled EDT
        (((40, 48, 40), (3.2, 3.0, 3.7)), {}),  # non-dyadic voxels: scipy's EDT
        (((8, 8, 8), 1.0), {"centre_mm": (0.0, -16.0, 10.0)}),  # all brain: no boundary
    ],
)
def test_small_heads_equal_the_old_build(args, kwargs):
    assert_same_head(make_head(*args, **kwargs), make_head_v1(*args, **kwargs))


def test_a_grid_without_brain_is_refused():
    with pytest.raises(MrsimInputError, match="no voxel of the template brain"):
        make_head((16, 16, 16), 4.0, centre_mm=(0.0, 0.0, 200.0))


def test_small_warped_subject_equals_the_old_build():
    new = head_subjects.synthetic_head(SPEC, (64, 72, 72), (3.0, 3.5, 3.5))
    assert_same_head(new, synthetic_head_v1(SPEC, (64, 72, 72), (3.0, 3.5, 3.5)))


@pytest.mark.slow
def test_default_head_equals_the_old_build():
    assert_same_head(make_head(), make_head_v1())


@pytest.mark.slow
def test_recipe_subject_equals_the_old_build():
    # the mcnet_mprage source grid: 256^3 at 1 mm
    new = head_subjects.synthetic_head(SPEC, (256, 256, 256), (1.0, 1.0, 1.0))
    assert_same_head(new, synthetic_head_v1(SPEC, (256, 256, 256), (1.0, 1.0, 1.0)))
