"""Per-title ladders beside the fixed ladder: bandwidth saved at equal modelled quality.

For titles of low, medium and high coding complexity (``server_stub.ladder``: the
Q-STAR-shaped rate–quality model and its convex hull), and for each rung of Netflix's
fixed ladder: the cheapest encode of the same modelled quality on the title's hull, so

    saving(rung) = 1 - R_hull(Q_rung) / R_rung

The mean over the fixed ladder's rungs is the "bandwidth saved at equal quality"
(Netflix's per-title post reports ~20 % on average, more on simple content). Also
printed: the per-title ladder itself, its top rung against the fixed top rung (the
per-title top stops where the title reaches the target quality, VMAF-like 95), and the
quality gained at equal bitrate (where complex titles gain rather than save).

These are modelled numbers: the model's structure follows the literature, its constants
are ours (see the module doc of ``server_stub.ladder``).

    python -m bench.ladder
"""

from __future__ import annotations

import sys

from server_stub.ladder import COMPLEXITY_PRESETS, RateQualityModel, savings


def main() -> int:
    rows = []
    for name, c in COMPLEXITY_PRESETS.items():
        s = savings(RateQualityModel(c))
        rows.append((name, s))
        print(f"{name} complexity ({c:g}):")
        print("  fixed rung        quality   same quality on the hull   saved   quality gain at same bitrate")
        for rung, rate, save, gain in zip(s.fixed, s.equal_quality_rates_bps, s.per_rung, s.quality_gain):
            print(f"  {rung.bitrate_bps / 1000:5.0f} kbps {rung.height:4d}p  {rung.quality:6.1f}   {rate / 1000:7.0f} kbps               {100 * save:5.1f} %  {gain:+6.1f}")
        ladder = ", ".join(f"{r.bitrate_bps / 1000:.0f}k@{r.height}p({r.quality:.0f})" for r in s.per_title)
        print(f"  per-title ladder: {ladder}")
        top_f, top_p = s.fixed[-1], s.per_title[-1]
        print(f"  top rung: fixed {top_f.bitrate_bps / 1000:.0f} kbps (quality {top_f.quality:.1f}), "
              f"per-title {top_p.bitrate_bps / 1000:.0f} kbps (quality {top_p.quality:.1f}): "
              + (f"{100 * s.top_vs_per_title:.1f} % less bandwidth" if s.top_vs_per_title >= 0 else f"{-100 * s.top_vs_per_title:.1f} % more bandwidth, for better pictures"))
        print()
    print("bandwidth saved at equal modelled quality (mean over the fixed ladder's rungs):")
    for name, s in rows:
        print(f"  {name:<7} {100 * s.mean:5.1f} %   (per rung {100 * min(s.per_rung):.0f}-{100 * max(s.per_rung):.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
