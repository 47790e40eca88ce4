"""The HTTP driver: the session core played over real HTTP (aiohttp).

- ``clock``: session clocks (real time, or scaled by ``--speed``);
- ``source``: a title plus where its bytes are (manifests or the stub's title.json);
- ``edges`` and ``resilience``: steered edges, failover, circuit breakers, backoff;
- ``driver``: the loop that feeds the session core;
- ``play``: playing a URL, or a title through the control plane.
"""
