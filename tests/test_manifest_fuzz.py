"""Mutated real manifests (truncation, attribute corruption, deleted elements and lines,
huge numbers): parsing, facts and title building may only ever raise ManifestError."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from player.manifest import parse_manifest, to_title
from player.manifest.errors import ManifestError
from player.manifest.facts import manifest_facts
from tests.conftest import SHARED

_DIR = SHARED / "manifests"
FILES = sorted(p for p in _DIR.glob("*.m*") if p.stat().st_size < 40_000) if _DIR.exists() else []
TEXTS = {p.name: p.read_bytes() for p in FILES}
NUMBERS = ["-1", "0", "99999999999999999999999", "1e308", "nan", "-0", "3.5", "abc", "", "18446744073709551616", "P9999Y", "PT-5S"]


def _mutate(data: bytes, kind: str, pos: float, value: str) -> bytes:
    text = data.decode("utf-8", "replace")
    if kind == "truncate":
        return data[: int(len(data) * pos)]
    if kind == "attribute":
        attrs = list(re.finditer(r'(\w[\w:-]*)="([^"]*)"', text)) or list(re.finditer(r"=([0-9.]+)", text))
        if not attrs:
            return data
        m = attrs[int(pos * (len(attrs) - 1))]
        return (text[: m.start(m.lastindex)] + value + text[m.end(m.lastindex):]).encode()
    if kind == "number":
        nums = list(re.finditer(r"\d+(\.\d+)?", text))
        if not nums:
            return data
        m = nums[int(pos * (len(nums) - 1))]
        return (text[: m.start()] + value + text[m.end():]).encode()
    if kind == "delete-line":
        lines = text.splitlines(keepends=True)
        if not lines:
            return data
        del lines[int(pos * (len(lines) - 1))]
        return "".join(lines).encode()
    if kind == "delete-element":
        els = list(re.finditer(r"<(\w+)[^>]*/>|<(\w+)[^>]*>.*?</\2>", text, re.S))
        if not els:
            return data
        m = els[int(pos * (len(els) - 1))]
        return (text[: m.start()] + text[m.end():]).encode()
    # duplicate a region (repeat counts, nesting)
    i = int(pos * len(data))
    return data[:i] + data[i: i + 200] * 20 + data[i:]


@pytest.mark.skipif(not FILES, reason="reference manifests not available")
@settings(max_examples=300, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(TEXTS) or ["none"]),
    kind=st.sampled_from(["truncate", "attribute", "number", "delete-line", "delete-element", "duplicate"]),
    pos=st.floats(0.0, 1.0),
    value=st.sampled_from(NUMBERS),
)
def test_only_manifest_error_escapes(name, kind, pos, value):
    data = _mutate(TEXTS[name], kind, pos, value)
    try:
        m = parse_manifest(data, name)
        manifest_facts(m, now_s=1.7e9)
        to_title(m, now_s=1.7e9)
    except ManifestError as e:
        msg = str(e)
        assert msg.startswith(name) and "\n" not in msg.strip()
