"""Screenshots: Textual writes SVG; PNG comes from converting it with CairoSVG.

CairoSVG (optional extra ``abrlab[png]``, needs the system's cairo library) is the
clean way to turn Textual's SVG into PNG in process. Without it, convert the SVG by
hand, e.g. ``rsvg-convert shot.svg -o shot.png`` or ``cairosvg shot.svg -o shot.png``.
"""

from __future__ import annotations

from pathlib import Path


def save_png(svg: Path) -> Path | None:
    """Write ``svg`` as PNG beside it; None when CairoSVG is not installed."""
    try:
        import cairosvg  # type: ignore[import-not-found]
    except (ImportError, OSError):  # OSError: the cairo C library is missing
        return None
    png = svg.with_suffix(".png")
    cairosvg.svg2png(url=str(svg), write_to=str(png))
    return png
