"""Motion file formats: round trips, literal files in each tool's layout, and bad input."""

import numpy as np
import pytest

from mrsim.motion import Trajectory
from mrsim.motion.fd import power_fd
from mrsim.motion.formats import (
    FORMATS,
    detect_format,
    has_time_column,
    read_trajectory,
    write_trajectory,
)

NAMES = {
    "mrsim": "motion.csv",
    "fsl": "prefiltered_func_data_mcf.par",
    "spm": "rp_sub-01_bold.txt",
    "afni": "dfile_rall.1D",
    "hcp": "Movement_Regressors.txt",
    "fmriprep": "sub-01_task-rest_desc-confounds_timeseries.tsv",
}


def _traj(n=12):
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.normal(0, 1.5, (n, 3)), rng.normal(0, 2.0, (n, 3))], axis=1)
    return Trajectory(np.arange(n) * 0.8, p)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(tmp_path, fmt):
    tr = _traj()
    path = write_trajectory(tr, tmp_path / NAMES[fmt])
    assert detect_format(path) == fmt
    back = read_trajectory(path, tr_s=0.8)
    np.testing.assert_allclose(back.params, tr.params, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(back.t_s, tr.t_s, rtol=1e-12, atol=1e-12)
    # explicit format with an undetectable name works too
    other = tmp_path / "data.txt"
    write_trajectory(tr, other, format=fmt)
    np.testing.assert_allclose(
        read_trajectory(other, format=fmt, tr_s=0.8).params, tr.params, atol=1e-10
    )


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_literal_fsl_par(tmp_path):
    # mcflirt: rx ry rz in radians, then tx ty tz in mm, two-space separated
    p = _write(
        tmp_path, "func_mcf.par", "0  0  0  0  0  0  \n0.01  -0.02  0.005  1.5  -0.5  0.25  \n"
    )
    tr = read_trajectory(p, tr_s=2.0)
    np.testing.assert_allclose(tr.t_s, [0.0, 2.0])
    np.testing.assert_allclose(
        tr.params[1], [1.5, -0.5, 0.25, np.rad2deg(0.01), np.rad2deg(-0.02), np.rad2deg(0.005)]
    )


def test_literal_spm_rp(tmp_path):
    text = (
        "  0.0000000e+00   0.0000000e+00   0.0000000e+00   0.0000000e+00   0.0000000e+00"
        "   0.0000000e+00\n"
        "  1.5000000e+00  -5.0000000e-01   2.5000000e-01   1.0000000e-02  -2.0000000e-02"
        "   5.0000000e-03\n"
    )
    tr = read_trajectory(_write(tmp_path, "rp_afunc.txt", text), tr_s=2.0)
    np.testing.assert_allclose(
        tr.params[1], [1.5, -0.5, 0.25, np.rad2deg(0.01), np.rad2deg(-0.02), np.rad2deg(0.005)]
    )


def test_literal_afni_1d_and_dfile(tmp_path):
    # roll pitch yaw (deg) dS dL dP (mm); roll about I-S (+z), pitch about R->L (-x),
    # yaw about A->P (-y); dL along -x, dP along -y
    text = "# 3dvolreg -1Dfile output\n0 0 0 0 0 0\n0.3 -0.2 0.1 0.5 -0.4 0.25\n"
    tr = read_trajectory(_write(tmp_path, "motion.1D", text), tr_s=2.0)
    np.testing.assert_allclose(tr.params[1], [0.4, -0.25, 0.5, 0.2, -0.1, 0.3])
    dfile = "0 0 0 0 0 0 0 1200.5 800.1\n1 0.3 -0.2 0.1 0.5 -0.4 0.25 1210.0 801.3\n"
    tr9 = read_trajectory(_write(tmp_path, "dfile.r01.1D", dfile), tr_s=2.0)
    np.testing.assert_allclose(tr9.params, tr.params)


def test_literal_hcp_movement_regressors(tmp_path):
    row0 = "0 0 0 0 0 0 0 0 0 0 0 0"
    row1 = "0.12 -0.05 0.3 0.2 -0.1 0.05 0.12 -0.05 0.3 0.2 -0.1 0.05"
    tr = read_trajectory(
        _write(tmp_path, "Movement_Regressors.txt", f"{row0}\n{row1}\n"), tr_s=0.72
    )
    np.testing.assert_allclose(tr.params[1], [0.12, -0.05, 0.3, 0.2, -0.1, 0.05])
    np.testing.assert_allclose(tr.t_s, [0, 0.72])


def test_literal_fmriprep_confounds(tmp_path):
    cols = [
        "global_signal", "csf", "trans_x", "trans_x_derivative1", "trans_y", "trans_z",
        "rot_x", "rot_y", "rot_z", "framewise_displacement",
    ]  # fmt: skip
    rows = [
        ["512.3", "600.1", "0", "n/a", "0", "0", "0", "0", "0", "n/a"],
        ["512.9", "601.0", "0.1", "0.1", "-0.2", "0.05", "0.001", "-0.002", "0.0005", "0.4"],
    ]
    text = "\t".join(cols) + "\n" + "\n".join("\t".join(r) for r in rows) + "\n"
    p = _write(tmp_path, "sub-01_task-rest_desc-confounds_timeseries.tsv", text)
    tr = read_trajectory(p, tr_s=2.0)
    np.testing.assert_allclose(
        tr.params[1], [0.1, -0.2, 0.05, np.rad2deg(0.001), np.rad2deg(-0.002), np.rad2deg(5e-4)]
    )
    # header-based detection for a TSV with another name
    q = _write(tmp_path, "confounds.tsv", text)
    assert detect_format(q) == "fmriprep"


def test_written_fmriprep_fd_column_is_power_fd(tmp_path):
    tr = _traj()
    path = write_trajectory(tr, tmp_path / NAMES["fmriprep"])
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    k = header.index("framewise_displacement")
    col = [ln.split("\t")[k] for ln in lines[1:]]
    assert col[0] == "n/a"
    np.testing.assert_allclose(np.array(col[1:], float), power_fd(tr)[1:], rtol=1e-10)


def test_mrsim_csv_units_comments_and_column_order(tmp_path):
    text = (
        "# synthetic, made by a test\n"
        "t_ms,rz_rad,ry_deg,rx_deg,tz_mm,ty_mm,tx_mm\n"
        "0,0,0,0,0,0,0\n"
        "# a comment in the middle\n"
        "500,0.01,2,1,3,-1,0.5\n"
    )
    tr = read_trajectory(_write(tmp_path, "m.csv", text))
    np.testing.assert_allclose(tr.t_s, [0.0, 0.5])
    np.testing.assert_allclose(tr.params[1], [0.5, -1, 3, 1, 2, np.rad2deg(0.01)])
    # no time column: tr_s is used
    tr2 = read_trajectory(_write(tmp_path, "n.csv", "tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n"
                                 "1,2,3,4,5,6\n1,2,3,4,5,7\n"), tr_s=3.0)  # fmt: skip
    np.testing.assert_allclose(tr2.t_s, [0.0, 3.0])
    # a written comment is read back transparently
    p = write_trajectory(tr, tmp_path / "c.csv", comment="line one\nline two")
    assert p.read_text().startswith("# line one\n# line two\nt_s,")
    np.testing.assert_allclose(read_trajectory(p).params, tr.params)


@pytest.mark.parametrize(
    "name, text, kwargs, pattern",
    [
        ("a.par", "0 0 0 0 0\n", {"tr_s": 1}, r"a\.par: line 1: expected 6 .* found 5"),
        ("a.par", "0 0 0 0 0 0\n\n0 0 nan 0 0 0\n", {"tr_s": 1}, r"line 3, column 3: .*finite"),
        ("a.par", "0 0 0 0 0 0\n0 0 inf 0 0 0\n", {"tr_s": 1}, r"line 2, column 3: .*finite"),
        ("a.par", "0 0 0 0 0 x\n", {"tr_s": 1}, r"line 1, column 6: 'x' is not a number"),
        ("a.par", "", {"tr_s": 1}, r"a\.par: no data rows \(empty file\)"),
        ("a.par", "0 0 0 0 0 0\n", {}, r"no time column; pass .*tr_s"),
        ("a.1D", "0 0 0 0 0 0 0\n", {"tr_s": 1}, r"expected 6 or 9"),
        ("Movement_Regressors.txt", "0 0 0 0 0 0\n", {"tr_s": 1}, r"expected 12"),
        ("m.csv", "", {}, r"m\.csv: empty file"),
        ("m.csv", "t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n", {}, r"no data rows"),
        (
            "m.csv",
            "t_s,tx_in,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n0,0,0,0,0,0,0\n",
            {},
            r"line 1: column 'tx_in' has unknown unit 'in'; expected tx_mm",
        ),
        (
            "m.csv",
            "t_s,tx,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n0,0,0,0,0,0,0\n",
            {},
            r"column 'tx' has no unit",
        ),
        ("m.csv", "t_s,tx_mm,ty_mm,tz_mm\n0,0,0,0\n", {}, r"lacks column\(s\) rx, ry, rz"),
        ("m.csv", "t_s,foo,tx_mm\n", {}, r"unknown column 'foo'"),
        (
            "m.csv",
            "t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n0,0,0,0,0,0,0\n1,0,0,0,0,0\n",
            {},
            r"line 3: expected 7 comma-separated values",
        ),
        (
            "m.csv",
            "t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n0,0,0,0,0,0,0\n2,0,0,0,0,0,0\n"
            "2,0,0,0,0,0,0\n",
            {},
            r"line 4: time 2 is not after the previous sample's",
        ),
        (
            "m.csv",
            "t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n0,0,0,0,0,0,NaN\n",
            {},
            r"line 2, column rz_deg: value 'NaN' is not a finite number",
        ),
        ("motion.txt", "0 0 0 0 0 0\n", {"tr_s": 1}, r"cannot tell the motion file format"),
        ("c.tsv", "a\tb\n1\t2\n", {"tr_s": 1}, r"cannot tell the motion file format"),
        (
            "x_desc-confounds_timeseries.tsv",
            "trans_x\ttrans_y\n0\t0\n",
            {"tr_s": 1},
            r"lacks column\(s\) trans_z, rot_x",
        ),
    ],
)
def test_bad_input_errors_name_file_line_and_expectation(tmp_path, name, text, kwargs, pattern):
    p = _write(tmp_path, name, text)
    with pytest.raises(ValueError, match=pattern):
        read_trajectory(p, **kwargs)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such motion file"):
        read_trajectory(tmp_path / "nope.csv")
    p = _write(tmp_path, "a.par", "0 0 0 0 0 0\n")
    with pytest.raises(ValueError, match="unknown motion file format"):
        read_trajectory(p, format="brainvoyager", tr_s=1)
    with pytest.raises(ValueError, match="no comment syntax"):
        write_trajectory(_traj(), tmp_path / "b.par", comment="hi")


def test_has_time_column(tmp_path):
    tr = _traj()
    assert has_time_column(write_trajectory(tr, tmp_path / "a.csv"))
    assert not has_time_column(write_trajectory(tr, tmp_path / "a.par"))
    p = _write(tmp_path, "n.csv", "tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n0,0,0,0,0,0\n")
    assert not has_time_column(p)
