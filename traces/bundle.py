"""The small trace set shipped in ``traces/bundled/``, made by our own Markov generator.

    python -m traces.bundle [--out DIR] [--check]

Four profiles (3g, lte, broadband, wifi) x five traces x 300 s, Sabre JSON, seeds 1..5.
``abrlab replay`` uses this folder when no ``--trace`` is given. The list of files with
their generator provenance and content hashes is ``traces/data/bundled.json``; ``--check``
regenerates every trace in memory and compares hashes with the files instead of writing.
The real traces in ../shared are never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from traces.formats import load_trace, save_trace
from traces.generators import get_profile, markov_trace
from traces.model import TraceError
from traces.provenance import from_provenance

PROFILES = ("3g", "lte", "broadband", "wifi")
PER_PROFILE = 5
DURATION_S = 300.0

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
MANIFEST = Path(__file__).resolve().parent / "data" / "bundled.json"


def bundle_plan() -> list[dict[str, Any]]:
    return [
        {"file": f"{p}-{i:02d}.json", "profile": p, "seed": i, "duration_s": DURATION_S}
        for p in PROFILES
        for i in range(1, PER_PROFILE + 1)
    ]


def make_bundle(out_dir: Path = BUNDLED_DIR, manifest: Path = MANIFEST) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for item in bundle_plan():
        name = Path(item["file"]).stem
        trace = markov_trace(item["profile"], item["duration_s"], item["seed"], name=name)
        save_trace(trace, out_dir / item["file"], "sabre")
        entries.append({"file": item["file"], "sha256": trace.sha256, "provenance": trace.provenance.to_dict()})
    doc = {
        "made_by": "python -m traces.bundle",
        "format": "sabre",
        "profiles_sha256": {p: get_profile(p).digest for p in PROFILES},
        "traces": entries,
    }
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def check_bundle(out_dir: Path = BUNDLED_DIR, manifest: Path = MANIFEST) -> list[str]:
    """Problems found (empty: every file matches its manifest entry and its regeneration)."""
    doc = json.loads(manifest.read_text())
    problems = []
    for entry in doc["traces"]:
        path = out_dir / entry["file"]
        on_disk = load_trace(path).sha256
        rebuilt = from_provenance(entry["provenance"]).sha256
        if on_disk != entry["sha256"]:
            problems.append(f"{path}: content hash {on_disk[:12]} != manifest {entry['sha256'][:12]}")
        if rebuilt != entry["sha256"]:
            problems.append(f"{path}: regenerated hash {rebuilt[:12]} != manifest {entry['sha256'][:12]}")
    listed = {e["file"] for e in doc["traces"]}
    extra = sorted(p.name for p in out_dir.iterdir() if p.is_file() and p.name not in listed)
    problems.extend(f"{out_dir / name}: not in the manifest" for name in extra)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m traces.bundle", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=BUNDLED_DIR)
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--check", action="store_true", help="verify instead of writing")
    args = ap.parse_args(argv)
    try:
        if args.check:
            problems = check_bundle(args.out, args.manifest)
            for p in problems:
                print(p)
            print(f"{args.out}: {'MISMATCH' if problems else 'all traces match their generator provenance'}")
            return 1 if problems else 0
        doc = make_bundle(args.out, args.manifest)
    except (TraceError, OSError) as e:
        print(f"traces.bundle: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {len(doc['traces'])} traces to {args.out} and {args.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
