"""Full-head phantom: layers present with plausible volumes, thicknesses and contrast."""

import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.phantoms.head import HEAD_LABELS, THICKNESS_MM, make_head
from mrsim.phantoms.mni152 import load_mni152
from mrsim.signal.mprage import ADNI_3T


@pytest.fixture(scope="module")
def head4():
    return make_head((44, 64, 64), 4.0)


def test_layers_present_with_plausible_volumes(head4):
    v = head4.volumes_ml()
    brain = v["gm"] + v["wm"] + v["csf"]
    assert 1200 < brain < 1900  # adult intracranial volume ~1.2-1.8 L
    # skull (bone + marrow) of a 6-7 mm vault over ~ 600 cm^2 plus the skull base: 0.3-1 L
    assert 300 < v["bone"] + v["marrow"] < 1100
    assert v["marrow"] > 0.3 * v["bone"]
    # two eyes of radius 12 mm: 2 x 7.2 mL, at 4 mm resolution within a few mL
    assert 8 < v["vitreous"] < 22
    for k in ("csf_rim", "skin", "fat", "muscle", "orbital_fat", "air"):
        assert v[k] > 1.0, k
    total = head4.fractions.sum(0)
    assert total.max() <= 1.0 + 1e-5 and head4.fractions.min() >= 0.0
    # smooth partial volumes: fractional values exist at every interface
    assert np.mean((total > 0.05) & (total < 0.95)) > 0.005
    assert set(np.unique(head4.labels)) <= set(HEAD_LABELS.values())


def test_brain_is_the_template_brain():
    # with load_mni152's grid centre as the head's centre, the brain is the template's
    gm, aff = load_mni152("gm", shape=(44, 64, 64), voxel_size_mm=4.0)
    centre = aff[:3, :3] @ np.array([22, 32, 32]) + aff[:3, 3]
    head = make_head((44, 64, 64), 4.0, centre_mm=centre)
    np.testing.assert_allclose(head.affine, aff)
    mask, _ = load_mni152("mask", shape=(44, 64, 64), voxel_size_mm=4.0)
    wm, _ = load_mni152("wm", shape=(44, 64, 64), voxel_size_mm=4.0)
    csf, _ = load_mni152("csf", shape=(44, 64, 64), voxel_size_mm=4.0)
    idx = head.names.index("gm")
    inside = mask >= 0.999
    inside[:, :, :12] = False  # the spinal-cord extrusion replaces the lowest slices
    ref = gm * mask / np.maximum(gm + wm + csf, 1e-6)  # fractions normalised to the mask
    np.testing.assert_allclose(head.fractions[idx][inside], ref[inside], atol=1e-6)


def _column_thickness(head, name):
    k = head.names.index(name)
    return head.fractions[k].sum(-1) * head.voxel_size_mm[2]


def test_vertex_layer_order_and_thickness():
    # 1 mm grid around the vertex: along the superior column the layers follow each other
    # outward with their nominal thicknesses (surface normal ~ z there).
    head = make_head((24, 24, 64), 1.0, centre_mm=(0.0, -20.0, 70.0))
    top = (head.fractions[head.names.index("gm")] > 0.5).cumsum(-1).argmax(-1)
    top = np.where((head.fractions[head.names.index("gm")] > 0.5).any(-1), top, 0)
    i, j = np.unravel_index(np.argmax(top[4:-4, 4:-4]), top[4:-4, 4:-4].shape)
    i, j = i + 4, j + 4  # the vertex: the highest brain column
    z = np.arange(64)
    centroid = {}
    for n in ("gm", "csf_rim", "marrow", "fat", "skin"):
        f = head.fractions[head.names.index(n)][i, j]
        centroid[n] = float((f * z).sum() / f.sum())
    assert centroid["gm"] < centroid["csf_rim"] < centroid["marrow"] < centroid["fat"]
    assert centroid["fat"] < centroid["skin"]
    th = THICKNESS_MM
    exp = {
        "csf_rim": th["csf_rim"],
        "bone": th["inner_table"] + th["outer_table"],
        "marrow": th["diploe"],
        "fat": th["fat"],
        "skin": th["skin"],
    }
    for n, mm in exp.items():
        got = _column_thickness(head, n)[i, j]
        assert abs(got - mm) < 0.6, (n, got, mm)


def test_thickness_override_and_errors():
    head = make_head((24, 24, 64), 1.0, centre_mm=(0.0, -20.0, 70.0), thickness_mm={"fat": 6.0})
    assert abs(_column_thickness(head, "fat").max() - 6.0) < 0.6
    with pytest.raises(MrsimInputError, match="thickness_mm"):
        make_head((24, 24, 24), 4.0, thickness_mm={"fat": -1.0})
    with pytest.raises(MrsimInputError, match="thickness_mm"):
        make_head((24, 24, 24), 4.0, thickness_mm={"hair": 1.0})
    with pytest.raises(MrsimInputError, match="shape"):
        make_head((24, 24), 4.0)


def test_mprage_contrast_in_the_head(head4):
    img = head4.mprage_image(ADNI_3T)
    lab = head4.labels

    def mean(name):
        return float(np.abs(img[lab == HEAD_LABELS[name]]).mean())

    assert mean("wm") > mean("gm") > mean("csf")
    assert mean("fat") > mean("wm")  # subcutaneous fat bright
    names, _ = head4.tissue_fractions()
    sig = dict(
        zip(names, np.abs(head4.tissue_signals(ADNI_3T, names)[:, ADNI_3T.centre]), strict=True)
    )
    assert sig["bone"] < 0.01 * sig["gm"]  # cortical bone dark (T2* 0.5 ms at TE 3 ms)
    assert sig["air"] == 0.0
    side = head4.sidecar()
    assert side["labels"]["8"] == "fat" and side["label_tissue"]["orbital_fat"] == "fat"
    assert {r["name"] for r in side["tissues"]} >= {"wm", "gm", "csf", "fat", "bone"}


def test_synthetic_heads_seeded_and_jittered():
    from mrsim.dataset.head_subjects import synthetic_head

    spec = {"seed": [7, 1, 0], "deform_mm": 3.0, "smooth_mm": 15.0, "scale_jitter": 0.05}
    a = synthetic_head(spec, (44, 64, 64), (4.0, 4.0, 4.0))
    b = synthetic_head(spec, (44, 64, 64), (4.0, 4.0, 4.0))
    c = synthetic_head({**spec, "seed": [7, 1, 1]}, (44, 64, 64), (4.0, 4.0, 4.0))
    np.testing.assert_array_equal(a.fractions, b.fractions)
    assert a.tissues == b.tissues and a.info["thickness_mm"] == b.info["thickness_mm"]
    assert not np.array_equal(a.fractions, c.fractions)
    assert a.info["thickness_mm"] != c.info["thickness_mm"]
    assert a.tissues["wm"].t1_s != c.tissues["wm"].t1_s
    assert a.tissues["wm"].chi_ppm == c.tissues["wm"].chi_ppm  # chi is the QSM truth
    # the deformation is the template subject's own (same spec, same warp)
    from mrsim.dataset.subjects import synthetic_subject

    tmpl = synthetic_subject({**spec, "contrast_jitter": 0.0}, (44, 64, 64), (4.0,) * 3)
    _, aff = load_mni152("mask", shape=(44, 64, 64), voxel_size_mm=4.0)
    centre = aff[:3, :3] @ np.array([22, 32, 32]) + aff[:3, 3]  # the template subject's grid
    brain = synthetic_head(spec, (44, 64, 64), (4.0,) * 3, centre_mm=centre).brain_mask
    overlap = (brain & (tmpl["mask"] > 0.5)).sum() / brain.sum()
    assert overlap > 0.97


def test_docs_tissue_table_matches_module():
    # docs/head_phantom.md's table is the module's table (no drift between the two)
    from pathlib import Path

    from mrsim.phantoms.tissues import TISSUES_3T

    text = (Path(__file__).parents[1] / "docs" / "head_phantom.md").read_text()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] in TISSUES_3T:
            rows[cells[0]] = cells
    assert set(rows) == set(TISSUES_3T)
    for name, t in TISSUES_3T.items():
        c = rows[name]
        if name != "air":
            got = [float(v) for v in c[1:4]]
            np.testing.assert_allclose(got, [t.t1_s, t.t2_s, t.t2s_s], rtol=1e-9, err_msg=name)
        assert float(c[4]) == t.pd and float(c[5]) == t.chi_ppm, name
