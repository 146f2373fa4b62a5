"""`mrsim motion` and `mrsim fd` commands (thin layers over mrsim.motion)."""

from pathlib import Path

import numpy as np
import pytest

from mrsim.cli import main
from mrsim.motion import pace_like, power_fd, read_trajectory, write_trajectory

REPO = Path(__file__).resolve().parents[1]


def test_generate_matches_library(tmp_path):
    out = tmp_path / "pace.csv"
    assert main(["motion", "generate", "pace", "--seed", "3", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# synthetic 'pace' trajectory (not measured data)")
    tr = read_trajectory(out)
    np.testing.assert_allclose(tr.params, pace_like(seed=3).params, rtol=1e-10, atol=1e-10)
    # --tr sets the sample spacing of linspace-sampled kinds
    out2 = tmp_path / "ev.csv"
    main(["motion", "generate", "events", "--n", "11", "--tr", "0.5", "-o", str(out2)])
    np.testing.assert_allclose(np.diff(read_trajectory(out2).t_s), 0.5)
    out3 = tmp_path / "r.csv"
    main(["motion", "generate", "realistic", "--n", "20", "--duration", "38", "-o", str(out3)])
    np.testing.assert_allclose(np.diff(read_trajectory(out3).t_s), 2.0)


def test_generate_rejects_option_of_other_kind(tmp_path, capsys):
    rc = main(["motion", "generate", "pace", "--magnitude", "2", "-o", str(tmp_path / "a.csv")])
    assert rc == 2
    assert "--magnitude does not apply to kind 'pace'" in capsys.readouterr().err


def test_convert_and_tr_handling(tmp_path, capsys):
    src = tmp_path / "a.csv"
    tr = pace_like(seed=1)
    write_trajectory(tr, src)
    par = tmp_path / "a.par"
    assert main(["motion", "convert", str(src), str(par)]) == 0
    # fsl -> spm needs no --tr (neither stores times)
    rp = tmp_path / "rp_a.txt"
    assert main(["motion", "convert", str(par), str(rp)]) == 0
    # fsl -> mrsim csv needs --tr and says so
    back = tmp_path / "b.csv"
    assert main(["motion", "convert", str(rp), str(back)]) == 2
    assert "--tr" in capsys.readouterr().err
    assert main(["motion", "convert", str(rp), str(back), "--tr", "2.5"]) == 0
    got = read_trajectory(back)
    np.testing.assert_allclose(got.params, tr.params, atol=1e-9)
    np.testing.assert_allclose(got.t_s, np.arange(len(tr)) * 2.5)
    # explicit formats for names that do not tell
    odd = tmp_path / "motion.dat"
    assert main(["motion", "convert", str(par), str(odd), "--to", "afni"]) == 0
    assert main(["motion", "convert", str(odd), str(tmp_path / "c.par"), "--from", "afni"]) == 0
    np.testing.assert_allclose(
        read_trajectory(tmp_path / "c.par", tr_s=1).params, tr.params, atol=1e-9
    )


def test_fd_command_output(tmp_path, capsys):
    p = np.zeros((4, 6))
    p[1, 0] = 0.3  # FD 0.3
    p[2, 0] = 1.0  # FD 0.7
    p[3, 0] = 1.1  # FD 0.1
    rp = tmp_path / "rp_x.txt"
    np.savetxt(rp, np.concatenate([p[:, :3], np.deg2rad(p[:, 3:])], axis=1))
    out = tmp_path / "fd.csv"
    assert main(["fd", str(rp), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "4 frames, Power FD (r = 50 mm)" in text
    assert "mean FD   0.3667 mm" in text
    assert "max FD    0.7000 mm" in text
    assert "FD > 0.2 mm: 2 frames" in text
    assert "FD > 0.5 mm: 1 frames" in text
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    assert out.read_text().startswith("frame,fd_power_mm")
    np.testing.assert_allclose(data[:, 1], [0, 0.3, 0.7, 0.1], atol=1e-12)
    assert main(["fd", str(rp), "--tr", "2", "--kind", "jenkinson", "-o", str(out)]) == 0
    assert out.read_text().startswith("frame,t_s,fd_jenkinson_mm")


def test_fd_unknown_format_is_clear_error(tmp_path, capsys):
    f = tmp_path / "motion.txt"
    f.write_text("0 0 0 0 0 0\n")
    assert main(["fd", str(f)]) == 2
    assert "--format" in capsys.readouterr().err
    assert main(["fd", str(f), "--format", "spm"]) == 0


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    src = tmp_path / "a.csv"
    write_trajectory(pace_like(n=32, seed=0), src)
    out = tmp_path / "m.png"
    assert main(["motion", "plot", str(src), "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_shipped_example_is_the_documented_command():
    ex = REPO / "examples" / "pace.csv"
    assert ex.exists(), "examples/pace.csv (make demo's input) is missing"
    head = ex.read_text().splitlines()[:2]
    assert "synthetic" in head[0] and "seed 0" in head[0]
    assert "mrsim motion generate pace --seed 0" in head[1]
    tr = read_trajectory(ex)
    assert len(tr) == 128 and tr.t_s[-1] == pytest.approx(176 * 2.3)
    np.testing.assert_allclose(tr.params, pace_like(seed=0).params, rtol=1e-10, atol=1e-10)
    assert power_fd(tr).shape == (128,)
