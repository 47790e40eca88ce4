import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def shared_path(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"reference data {p} not available")
    return p


@pytest.fixture(scope="session")
def envivio():
    from player.presentation import load_title

    return load_title(shared_path("content", "envivio.json"))
