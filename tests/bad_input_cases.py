"""The bad-input table: what a user tries, what they get (docs/errors.md is generated from it).

Each :class:`Case` is one ``mrsim`` command line (run in a folder holding the inputs that
``bad_input_files.make_inputs`` writes) or one library call, the expected outcome and the
text the user must see. Outcomes: ``error`` (one line, exit status 2), ``warning`` (one
``warning:`` line, the command completes), ``ok`` (the right answer, exit 0), ``report``
(``dataset info --verify``: the problems listed, exit 1).
``tests/test_bad_inputs.py`` runs every row; ``python tests/bad_input_cases.py`` rewrites
the table in docs/errors.md, and a test checks that the table there is the one these cases
give.

Inputs are small (16^3 volumes, 16 x 300 x 8 for the long phase-encode axis) so that the whole
table runs in well under a minute.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bad_input_files import PACE, REPO  # noqa: E402

DOC = REPO / "docs" / "errors.md"
BEGIN, END = "<!-- bad-input table: begin -->", "<!-- bad-input table: end -->"


@dataclass(frozen=True)
class Case:
    group: int
    tried: str  # command line (after `mrsim`), or Python code with `lib:` in front
    outcome: str  # "error" | "report" (problems listed, exit 1) | "warning" | "ok"
    gets: str  # text the user must see (quoted in the docs)
    also: tuple[str, ...] = ()  # more text that must appear
    never: tuple[str, ...] = ("Traceback",)  # text that must not appear
    absent: tuple[str, ...] = ()  # paths that must not exist afterwards (no partial output)
    note: str = ""  # what the input is, for the docs
    tags: tuple[str, ...] = field(default=())

    @property
    def is_library(self) -> bool:
        return self.tried.startswith("lib:")


C = f"corrupt --trajectory {PACE} --mapping stretch"

CASES: list[Case] = [
    # 1 -- high-resolution T1s
    Case(
        1,
        f"{C} --input tall.nii.gz -o hr",
        "ok",
        "derived to fit the matrix: echo spacing 6 ms",
        also=("wrote hr/",),
        note="300-line phase-encode axis (fixed 0.9 s / 7 ms fit <= 257)",
    ),
    Case(
        1,
        f"{C} --input cube.nii.gz --matrix 8,290,8 -o hr2",
        "ok",
        "echo spacing 6.206 ms",
        note="--matrix with a 290-line phase-encode axis",
    ),
    Case(
        1,
        f"{C} --input tall.nii.gz --ordering centric -o hr3",
        "ok",
        "derived to fit the matrix: echo spacing 5 ms, shot TR 2.5 s",
        note="centric: the train starts at TI, so the shot TR is what must grow",
    ),
    Case(
        1,
        f"{C} --input tall.nii.gz --ti-s 0.5 --echo-spacing-s 0.007 -o x1",
        "error",
        "--ti-s 0.5 s is shorter than the 150 readouts before the centre",
        also=("raise --ti-s to >= 1.05", "--echo-spacing-s"),
        never=("--matrix", "ti_s"),
        absent=("x1",),
        note="protocol fixed by the user that cannot fit",
    ),
    Case(
        1,
        f"{C} --input tall.nii.gz --ti-s 0.3 -o x1",
        "error",
        "--ti-s 0.3 s is too short for a 300-line train",
        never=("ti_s", "Traceback"),
        note="TI too short even at the shortest echo spacing",
    ),
    Case(
        1,
        f"{C} --input tall.nii.gz --shot-tr-s 1.5 --echo-spacing-s 0.007 -o x1",
        "error",
        "--shot-tr-s 1.5 s is too short",
        also=("raise --shot-tr-s to >= 2.1",),
    ),
    Case(
        1,
        f"{C} --input cube.nii.gz --echo-spacing-s -0.007 -o x1",
        "error",
        "argument --echo-spacing-s: expected a positive number of seconds",
    ),
    # 2 -- silent wrong answers
    Case(
        2,
        "dataset info ds_missing",
        "error",
        "shards/shard-00001.h5 (samples 4-7) is missing",
        also=("mrsim dataset build",),
        note="a shard file deleted after the build",
    ),
    Case(
        2,
        "dataset info ds_damaged",
        "error",
        "shards/shard-00000.h5 (samples 0-3) is damaged",
        note="a shard truncated to half its size",
    ),
    Case(
        2,
        "dataset info ds_missing --verify",
        "report",
        "PROBLEM: shard 1",
        never=(),
        note="--verify lists every problem (exit 1)",
    ),
    Case(
        2,
        "dataset regenerate ds_missing 5",
        "error",
        "ds_missing/dataset.h5: shard shards/shard-00001.h5 (sample 5) is missing",
    ),
    Case(
        2,
        "dataset regenerate ds_damaged 1",
        "error",
        "shard-00000.h5: not a readable mrsim shard (damaged or not HDF5",
    ),
    Case(
        2,
        f"{C} --input cplx.nii.gz -o cx",
        "ok",
        "complex input: the complex image (magnitude and phase) is corrupted",
        note="complex NIfTI (was: reduced to its real part)",
    ),
    Case(
        2,
        "qsm simulate --chi cplx.nii.gz --motion-seed 1 -o q1",
        "error",
        "cplx.nii.gz: holds complex data (complex64); this input must be real",
        absent=("q1",),
        note="complex NIfTI where a real map is needed",
    ),
    Case(
        2,
        f"{C} --input cube.nii.gz --eps 2 -o x2",
        "error",
        "argument --eps: the NUFFT tolerance must be between 1e-15 and 0.1",
        absent=("x2",),
    ),
    Case(
        2,
        f"{C} --input cube.nii.gz --eps 0 -o x2",
        "error",
        "argument --eps: the NUFFT tolerance must be between 1e-15 and 0.1",
    ),
    Case(
        2,
        "qsm simulate --eps 0.5 --motion-seed 1 -o q1",
        "error",
        "argument --eps: the NUFFT tolerance must be between 1e-15 and 0.1",
    ),
    Case(
        2,
        "motion convert jittered.csv out.par",
        "error",
        "jittered.csv: the sample times are not uniform (spacing 0.5 to 2 s)",
        also=("--resample-tr SECONDS",),
        absent=("out.par",),
        note="mrsim CSV with non-uniform times to FSL .par (no time column)",
    ),
    Case(
        2,
        "motion convert jittered.csv out2.par --resample-tr 0.5",
        "ok",
        "times not stored: read it back with --tr 0.5",
    ),
    Case(
        2,
        "motion convert late.csv late.1D",
        "ok",
        "read it back with --tr 2 (first sample was at 10 s)",
        note="uniform times that do not start at 0",
    ),
    Case(
        2,
        "fd one.csv",
        "ok",
        "mean FD   n/a (one frame: FD needs two consecutive poses)",
        never=("frames 2..1",),
    ),
    Case(
        2,
        "fd rp_ok.txt --radius -1",
        "error",
        "argument --radius: expected a positive number of mm, got '-1'",
    ),
    Case(
        2,
        "fd rp_ok.txt --kind jenkinson --radius 0",
        "error",
        "argument --radius: expected a positive number of mm, got '0'",
    ),
    Case(
        2,
        "lib: mrsim.phantoms.mni152.load_mni152('t1', shape=(0, 0, 0))",
        "error",
        "shape must be 3 positive integers, got (0, 0, 0)",
    ),
    Case(
        2,
        "lib: mrsim.motion.fd.power_fd(np.zeros((3, 6)), radius_mm=-1)",
        "error",
        "radius_mm must be a number of mm >= 0, got -1",
    ),
    Case(
        2,
        "qsm simulate --te 0.02 0.01 --motion-seed 1 -o q1",
        "error",
        "--te: echo times must be strictly increasing",
        absent=("q1",),
    ),
    Case(
        2,
        "qsm simulate --te -0.005 0.01 --motion-seed 1 -o q1",
        "error",
        "--te: echo times must be positive seconds",
    ),
    Case(
        2,
        "qsm simulate --te1 0.01 --dte -0.002 --motion-seed 1 -o q1",
        "error",
        "--te1/--dte/--n-echoes: need n_echoes >= 1, te1_s >= 0, dte_s > 0",
    ),
    Case(
        2,
        "qsm simulate --b0 0 --motion-seed 1 -o q1",
        "error",
        "--b0 must be a positive field strength in tesla",
    ),
    Case(
        2,
        "qsm simulate --b0 -3 --motion-seed 1 -o q1",
        "error",
        "--b0 must be a positive field strength in tesla",
    ),
    Case(
        2,
        "qsm simulate --chi zero.nii.gz --motion-seed 1 -o q1",
        "error",
        "zero.nii.gz: the chi map is all zeros",
    ),
    Case(
        2,
        "qsm simulate --chi cube.nii.gz --mask zero.nii.gz --motion-seed 1 -o q1",
        "error",
        "zero.nii.gz: the mask is empty",
    ),
    Case(
        2,
        "qsm simulate --chi cube.nii.gz --mag cube.nii.gz --phase cube.nii.gz --te 0.01 -o q1",
        "error",
        "--chi cannot be combined with --mag/--phase",
    ),
    Case(
        2,
        "qsm simulate --mask cube.nii.gz --motion-seed 1 -o q1",
        "error",
        "--mask applies to --chi only",
    ),
    Case(
        2,
        "qsm simulate --shape 8 8 8 --voxel-size 12 --n-echoes 2 -o q0",
        "warning",
        "no --motion FILE or --motion-seed N: the corrupted_* outputs will equal the clean",
        also=("wrote q0/",),
        note="no motion source",
    ),
    Case(
        2,
        "qsm simulate --motion rp_ok.txt --shape 8 8 8 -o q1",
        "error",
        "pass the sampling interval tr_s= (--motion-tr SECONDS)",
        never=("CLI: --tr",),
        note="motion file without times (this command's --tr is the line TR)",
    ),
    # 3 -- plausibility
    Case(
        3,
        "fd rp_deg.txt",
        "warning",
        "rp_deg.txt: sample 3, column rx: rx = 68.75 deg (1.2 rad in the spm file) is beyond "
        "the physiological bound 20 deg",
        also=("if this file holds degrees, it is not a valid spm file", "--no-motion-warnings"),
        note="SPM rp file whose rotations are in degrees",
    ),
    Case(
        3,
        "fd rp_small_deg.txt",
        "warning",
        "column rx: rotations up to 0.3 rad (17.2 deg) while the translations stay within 0.5 mm: "
        "these look like degrees, but spm files store radians",
        note="SPM rp file with typical motion (0.3 deg, 0.5 mm) saved in degrees",
    ),
    Case(3, "fd rp_real.txt", "ok", "Power FD", never=("warning",), note="the same in radians"),
    Case(3, "fd rp_deg.txt --no-motion-warnings", "ok", "Power FD", never=("warning",)),
    Case(
        3,
        "fd rp_400.txt",
        "error",
        "rp_400.txt: sample 2, column rz: rz = 401.1 deg (7 rad in the spm file) cannot be a "
        "head pose",
        note="7 'radians' (degrees in an rp file)",
    ),
    Case(
        3, "fd deg400.csv", "error", "column ry: ry = 400 cannot be a head pose (|ry| <= 180 deg)"
    ),
    Case(
        3,
        "fd metres.csv",
        "error",
        "sample 2, column tz: tz = 5000 cannot be a head pose (|tz| <= 300 mm); check the file's "
        "units",
        note="a 5 m step",
    ),
    Case(
        3,
        "fd jump.csv",
        "warning",
        "samples 2-3, column tx: a step of 25 mm is beyond the physiological bound 20 mm",
    ),
    Case(3, "fd wide.par", "warning", "(0.6 rad in the fsl file)", note="FSL .par, 34 deg"),
    Case(
        3,
        "corrupt --trajectory rp_deg.txt --tr 2 --mapping stretch --input cube.nii.gz -o cdeg",
        "warning",
        "column rx: rx = 68.75 deg",
        also=("wrote cdeg/",),
        note="the same warning from corrupt",
    ),
    Case(
        3,
        "motion convert rp_400.txt out.csv --tr 2",
        "error",
        "cannot be a head pose",
        absent=("out.csv",),
    ),
    # 4 -- validate first, all or nothing
    Case(
        4,
        f"{C} --input zero.nii.gz -o z",
        "error",
        "zero.nii.gz: the volume is all zeros: there is nothing to corrupt",
        absent=("z",),
    ),
    Case(
        4,
        f"{C} --input tiny.nii.gz -o t6",
        "error",
        "tiny.nii.gz: input grid (6, 6, 6) is too small",
        absent=("t6",),
    ),
    Case(
        4,
        f"{C} --input flat.nii.gz -o t1",
        "error",
        "flat.nii.gz: input grid (40, 40, 1) is too small",
        absent=("t1",),
    ),
    Case(
        4,
        f"{C} --input cube.nii.gz --matrix 16,16,4 -o t4",
        "error",
        "--matrix grid (16, 16, 4) is too small",
        absent=("t4",),
    ),
    Case(
        4,
        f"{C} --input cube.nii.gz --save-kspace /proc/none/k.h5 -o sk",
        "error",
        "--save-kspace /proc/none/k.h5: cannot write in /proc",
        absent=("sk",),
        note="unwritable --save-kspace",
    ),
    Case(
        4,
        f"{C} --input cube.nii.gz --save-ismrmrd /proc/none/raw.h5 -o sk",
        "error",
        "--save-ismrmrd /proc/none/raw.h5: cannot write in /proc",
        absent=("sk",),
        note="unwritable --save-ismrmrd",
    ),
    Case(
        4,
        f"{C} --input cube.nii.gz --save-kspace hr -o sk",
        "error",
        "--save-kspace hr: is a folder; expected a file name",
        absent=("sk",),
    ),
    Case(
        4,
        f"{C} --input cube.nii.gz -o cube.nii.gz",
        "error",
        "-o/--output cube.nii.gz: exists and is not a folder",
    ),
    Case(
        4,
        "qsm simulate --motion-seed 1 -o /proc/none/q",
        "error",
        "-o/--output /proc/none/q: cannot write in /proc",
    ),
    Case(
        4,
        f"corrupt --trajectory {PACE} --input cube.nii.gz --matrix 8,8,200 -o short",
        "error",
        "use a longer trajectory, or --mapping stretch",
        never=("mapping='stretch'",),
        absent=("short",),
        note="scan longer than the trajectory (checked before the NUFFT)",
    ),
    # 5 -- misleading errors
    Case(
        5,
        "motion convert motion.txt out.csv",
        "error",
        "pass --from FORMAT",
        never=("--format", "format="),
        note="name does not tell the format",
    ),
    Case(5, "motion convert pace.csv out.xyz", "error", "pass --to FORMAT", never=("--format",)),
    Case(
        5,
        f"{C} --input cube.nii.gz --threads 0 -o x5",
        "error",
        "argument --threads: expected a positive integer, got '0'",
        never=("workers",),
    ),
    Case(
        5,
        "dataset build toy.toml --out dsx --workers 0",
        "error",
        "argument --workers: expected a positive integer, got '0'",
    ),
    Case(
        5,
        "dataset build toy.toml --out dsx --threads 0",
        "error",
        "argument --threads: expected a positive integer, got '0'",
    ),
    Case(
        5,
        "dataset info cube.nii.gz",
        "error",
        "cube.nii.gz: not an mrsim dataset (cannot open it as HDF5",
    ),
    Case(5, "dataset info plain.h5", "error", "plain.h5: an HDF5 file but not an mrsim dataset"),
    Case(5, "dataset regenerate cube.nii.gz 0", "error", "cube.nii.gz: not an mrsim dataset"),
    Case(5, "fd bom.csv", "ok", "bom.csv: 4 frames", note="Excel 'CSV UTF-8' (byte-order mark)"),
    Case(5, "motion convert bom.csv bom.par", "ok", "wrote bom.par"),
    Case(
        5,
        "lib: mrsim.dataset.recipe.load_recipe('bom.toml').name",
        "ok",
        "toy_bom",
        note="recipe saved with a byte-order mark",
    ),
    Case(
        5,
        "corrupt --trajectory nofile.csv -o x6",
        "error",
        "nofile.csv: no such motion file (to get one: `mrsim motion generate pace --seed 0 -o "
        "pace.csv`",
    ),
    Case(
        5,
        f"{C} --input cube.nii.gz --noise-snr -5 -o x7",
        "error",
        "--noise-snr must be > 0, got -5",
        absent=("x7",),
    ),
    Case(
        5,
        "corrupt --trajectory pace.csv --tr -2 -o x8",
        "error",
        "argument --tr: expected a positive number of seconds, got '-2'",
    ),
    Case(
        5,
        "dataset build cube.nii.gz --out d1",
        "error",
        "cube.nii.gz: not a text file (cannot decode as UTF-8); expected a TOML recipe",
        absent=("d1",),
    ),
    Case(
        5,
        "qsm recon --mag cube.nii.gz --phase cube.nii.gz --te 0.01 -o r1",
        "error",
        "--te: QSM needs >= 2 positive echo times in seconds, got [0.01]",
        absent=("r1",),
    ),
    Case(
        5,
        "qsm recon --mag cube.nii.gz --phase cube.nii.gz --te 0.02 0.01 -o r1",
        "error",
        "--te: echo times must be strictly increasing",
    ),
    Case(
        5,
        "qsm recon --mag cube.nii.gz --phase cube.nii.gz --te 0.01 0.02 --lam -1 -o r1",
        "error",
        "--lam must be a positive TV weight",
    ),
    Case(
        4,
        f"{C} --input cube.nii.gz --matrix 100000 -o big",
        "error",
        "--matrix (100000, 100000, 100000) needs about",
        also=("use a smaller --matrix",),
        never=("MemoryError", "Traceback"),
        absent=("big",),
        note="a matrix that cannot fit in memory",
    ),
    Case(
        4,
        "dataset build toy.toml --out /proc/none/ds",
        "error",
        "--out /proc/none/ds: cannot write in /proc",
        note="unwritable dataset folder: refused before any sample is built",
    ),
    Case(
        4,
        "corrupt --trajectory one.csv --input cube.nii.gz --mapping stretch -o o1",
        "error",
        "one.csv: --mapping stretch needs a trajectory with at least 2 distinct times",
        never=("protocol", "Traceback"),
        absent=("o1",),
        note="one-sample trajectory: refused before the protocol/simulation",
    ),
    Case(
        5,
        f"{C} --input cube.nii.gz --trajectory notime.csv -o x9",
        "error",
        "notime.csv: these mrsim CSV files have no time column; pass the sampling interval "
        "--tr SECONDS",
        never=("tr_s=",),
    ),
    Case(5, "fd motion.txt", "error", "pass --format FORMAT as one of", never=("format=",)),
    Case(
        5,
        "fd semi.csv",
        "error",
        "(columns are separated by ';' here; an mrsim CSV uses commas)",
        note="CSV saved with ';' separators (European Excel)",
    ),
    Case(
        5,
        "phantom mni152 --voxel-size -1 -o x.nii.gz",
        "error",
        "argument --voxel-size: expected a positive number of mm, got '-1'",
    ),
    Case(
        5,
        "phantom shepp-logan --shape 4 0 4 -o s.nii.gz",
        "error",
        "argument --shape: expected a positive integer, got '0'",
    ),
    Case(
        4,
        "phantom mni152 -o /proc/none/x.nii.gz",
        "error",
        "-o/--output /proc/none/x.nii.gz: cannot write in /proc",
    ),
    Case(
        4,
        "qsm recon --mag cube.nii.gz cube.nii.gz --phase cube.nii.gz cube.nii.gz --te 0.01 0.02 "
        "--reference tiny.nii.gz -o r4",
        "error",
        "tiny.nii.gz: shape (6, 6, 6) != data shape (16, 16, 16)",
        absent=("r4",),
        note="--reference checked before the reconstruction",
    ),
    Case(
        5,
        "recon nofile.h5 -o r.nii.gz",
        "error",
        "nofile.h5: no such file (expected an mrsim k-space or MRD .h5)",
    ),
    Case(
        5,
        "recon cube.nii.gz -o r.nii.gz",
        "error",
        "cube.nii.gz: not a readable HDF5 file, so not MRD raw data",
        absent=("r.nii.gz",),
        note="a NIfTI given as raw data",
    ),
    Case(
        5,
        "recon plain.h5 --known-motion -o r.nii.gz",
        "error",
        "plain.h5: not an ISMRMRD/MRD file (no group holding 'xml' and 'data' datasets",
        absent=("r.nii.gz", "r_residuals.json"),
        note="an HDF5 file that is neither MRD nor an mrsim k-space file",
    ),
    Case(
        4,
        "recon plain.h5 -o /proc/none/r.nii.gz",
        "error",
        "-o/--output /proc/none/r.nii.gz: cannot write in /proc",
        note="unwritable output: refused before the file is read",
    ),
    # 7 -- packaging and set-up
    Case(
        7,
        "motion generate pace --seed 0 -o gen/pace.csv",
        "ok",
        "wrote gen/pace.csv (128 samples over 404.8 s, mrsim format)",
        note="the way to get examples/pace.csv outside the source tree",
    ),
]


# ---------------------------------------------------------------------------------------------
# the docs table

_OUTCOME = {
    "error": "error (exit 2)",
    "report": "problems listed (exit 1)",
    "warning": "warning, runs",
    "ok": "right answer",
}
_GROUPS = {
    1: "high-resolution T1s",
    2: "silent wrong answers",
    3: "plausibility",
    4: "checks before work, no partial output",
    5: "misleading errors",
    7: "set-up",
}


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_table() -> str:
    rows = [
        "| # | group | what you tried | input | outcome | what you get (excerpt) |",
        "|---|---|---|---|---|---|",
    ]
    for k, c in enumerate(CASES, start=1):
        tried = c.tried[4:].strip() if c.is_library else f"mrsim {c.tried}"
        rows.append(
            f"| {k} | {c.group} {_GROUPS[c.group]} | `{_md(tried)}` | {_md(c.note)} | "
            f"{_OUTCOME[c.outcome]} | `{_md(c.gets)}` |"
        )
    return "\n".join(rows)


def write_docs() -> None:
    text = DOC.read_text()
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    head = re.sub(r"every row \(\d+ cases\)", f"every row ({len(CASES)} cases)", head)
    DOC.write_text(f"{head}{BEGIN}\n{render_table()}\n{END}{tail}")


if __name__ == "__main__":
    write_docs()
    print(f"wrote {DOC} ({len(CASES)} cases)")
