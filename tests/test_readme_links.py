"""README links stay inside the repository (the wheel and a clone have no ../shared)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_links_point_inside_the_repository():
    text = (REPO / "README.md").read_text()
    assert "../" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        assert (REPO / target).exists(), target
