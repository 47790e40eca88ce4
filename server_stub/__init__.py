"""The bundled server stub: the server half of the streaming stack, on loopback.

- ``ladder``: per-title encoding (rate–quality model, convex hull, ladders, savings);
- ``catalog``, ``media``, ``manifests``, ``objects``: titles, their bytes, their DASH
  and HLS manifests, and what lives at each path;
- ``origin``: serves the catalog; ``edge``: cache, signed URLs, trace shaping
  (``shaping``, ``pacing``), faults (``faults``); ``control``: playback API, steering,
  signing (``tokens``);
- ``stack``: a whole deployment from a TOML topology (``abrlab serve``).

It imports ``traces`` (shaping) and never ``player``.
"""
