"""The repository's copy of the portal snapshots is in step with ../shared/portals."""

import os
from pathlib import Path

import pytest

from .snapshots import PORTALS

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "portals"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.skipif(not SHARED.is_dir() and os.environ.get("CI") != "true",
                    reason="no ../shared/portals beside this clone: the copy is the truth")
def test_copy_matches_shared_snapshots():
    shared, ours = tree(SHARED), tree(PORTALS)
    assert sorted(shared) == sorted(ours), "files differ: re-copy ../shared/portals into crawler/replica/portals"
    changed = [name for name in shared if shared[name] != ours[name]]
    assert changed == [], f"changed upstream: {changed}"
