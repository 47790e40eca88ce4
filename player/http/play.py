"""Playing a title over HTTP, end to end: from a URL, or through the control plane.

::

    result = await play_url(edge_manifest_url, "bola", trace=trace, speed=10)
    result = await play_title(control_url, api_key, "demo-medium", trace=trace)
    result.session.record()   # QoE / KPIs as for a simulated session

``play_title`` asks the control plane for a playback (``POST /playback``): the session
id, the ABR recommendation (used when ``abr`` is None) and the steered edges with
signed URLs; the driver fails over along that list. A 403 (expired token) makes the
driver ask the control plane again for the same session id.

``prepare_url`` / ``prepare_title`` stop short of playing (title loaded, session built)
for a caller that runs ``driver.run(session)`` as a task of its own (the TUI).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp

from abr.registry import create
from player.config import SessionConfig, mode_config
from player.http.clock import Clock, ScaledClock
from player.http.driver import DriverConfig, HttpDriver, PlayError, Status
from player.http.edges import EdgeSet, Endpoint
from player.http.resilience import CircuitBreaker
from player.http.source import HttpTitle
from player.session import Session
from traces.model import Trace

MANIFEST_KINDS = ("dash", "hls", "dash_ranges", "hls_ranges", "native")
API_KEY_HEADER = "X-API-Key"


@dataclass
class PlayResult:
    session: Session
    source: HttpTitle
    driver: HttpDriver
    playback: dict[str, Any] | None = None  # the control plane's answer, if any

    def stats(self) -> dict[str, Any]:
        d = self.driver
        return {
            "requests": d.requests,
            "errors": d.errors,
            "failovers": d.edges.failovers,
            "bytes": d.bytes_loaded,
            "edges": [e.to_dict() for e in d.edges.endpoints],
            "warnings": self.warnings(),
        }

    def warnings(self) -> list[str]:
        """What the manifest parser tolerated and what live following fell back on (a
        time source that did not answer): said to the user, not silently absorbed."""
        out: list[str] = []
        m = self.source.manifest
        if m is not None:
            out.extend(getattr(m, "warnings", []) or [])
        f = self.source.follower
        if f is not None:
            out.extend(f.warnings)
            if f.manifest is not None and f.manifest is not m:
                out.extend(w for w in (getattr(f.manifest, "warnings", []) or []) if w not in out)
        return out


def _session(source: HttpTitle, abr: Any, mode: str, config: SessionConfig | None, trace: Trace | None, session_id: str | None) -> Session:
    cfg = config or mode_config(mode)
    video_abr = create(abr, mode) if isinstance(abr, str) else abr
    audio_abr = None
    if source.title.audio is not None:
        audio_abr = create(abr, mode) if isinstance(abr, str) else create("throughput", mode)
    return Session(
        source.title, video_abr, cfg, audio_abr=audio_abr, session_id=session_id,
        trace_name=trace.name if trace is not None else None, meta={"url": source.url, "format": source.format},
    )


async def play_url(url: str, abr: Any = "bola", **options: Any) -> PlayResult:
    """Play the manifest (or stub ``title.json``) at ``url`` (options: :func:`prepare_url`'s)."""
    res = await prepare_url(url, abr, **options)
    await res.driver.run(res.session)
    return res


async def prepare_url(
    url: str,
    abr: Any = "bola",
    *,
    trace: Trace | None = None,
    speed: float = 1.0,
    mode: str = "default",
    config: SessionConfig | None = None,
    driver_config: DriverConfig | None = None,
    clock: Clock | None = None,
    on_status: Callable[[Status], None] | None = None,
    http: aiohttp.ClientSession | None = None,
    session_id: str | None = None,
) -> PlayResult:
    """:func:`play_url` up to the first segment: the title is loaded and the session
    built, not started; ``await res.driver.run(res.session)`` plays it (a live view runs
    that as a task of its own)."""
    if not url.startswith(("http://", "https://")):
        raise PlayError(f"{url}: not an http(s) URL (local files play in simulation: abrlab replay / abrlab tui)")
    dcfg = driver_config or DriverConfig()
    edges = EdgeSet.for_url(url)
    driver = HttpDriver(None, edges, clock=clock or ScaledClock(speed), config=dcfg, trace=trace, http=http, on_status=on_status)
    try:
        source = await driver.load(url)
        session = _session(source, abr, mode, config, trace, session_id)
    except BaseException:
        await driver.close()
        raise
    return PlayResult(session, source, driver)


async def request_playback(
    control_url: str,
    api_key: str,
    title: str,
    *,
    client_id: str | None = None,
    device: dict[str, Any] | None = None,
    network: dict[str, Any] | None = None,
    session_id: str | None = None,
    http: aiohttp.ClientSession | None = None,
) -> dict[str, Any]:
    """``POST /playback`` on the control plane; raises PlayError with its message."""
    body: dict[str, Any] = {"title": title}
    if client_id:
        body["client_id"] = client_id
    if device:
        body["device"] = device
    if network:
        body["network"] = network
    if session_id:
        body["session_id"] = session_id
    own = http is None
    http = http or aiohttp.ClientSession()
    try:
        async with http.post(control_url.rstrip("/") + "/playback", json=body, headers={API_KEY_HEADER: api_key}) as r:
            try:
                data = await r.json(content_type=None)
            except ValueError:
                data = {}
            if r.status != 200:
                raise PlayError(f"control plane {control_url}: HTTP {r.status}: {data.get('error', 'no detail')}")
            return data
    except aiohttp.ClientError as e:
        raise PlayError(f"control plane {control_url} unreachable: {e}") from None
    finally:
        if own:
            await http.close()


def edges_from_playback(playback: dict[str, Any], breaker_threshold: int = 3, cooldown_s: float = 2.0) -> EdgeSet:
    return EdgeSet(
        Endpoint(e["edge_id"], e["base_url"], CircuitBreaker(breaker_threshold, cooldown_s), session_url=e["session_url"])
        for e in playback["edges"]
    )


async def play_title(control_url: str, api_key: str, title: str, abr: Any = None, **options: Any) -> PlayResult:
    """Ask the control plane for ``title`` and play it on the steered edges (options:
    :func:`prepare_title`'s)."""
    res = await prepare_title(control_url, api_key, title, abr, **options)
    await res.driver.run(res.session)
    return res


async def prepare_title(
    control_url: str,
    api_key: str,
    title: str,
    abr: Any = None,
    *,
    manifest: str = "dash",
    trace: Trace | None = None,
    speed: float | None = None,
    mode: str = "default",
    config: SessionConfig | None = None,
    driver_config: DriverConfig | None = None,
    clock: Clock | None = None,
    client_id: str | None = None,
    device: dict[str, Any] | None = None,
    network: dict[str, Any] | None = None,
    on_status: Callable[[Status], None] | None = None,
) -> PlayResult:
    """:func:`play_title` up to the first segment (see :func:`prepare_url`)."""
    if manifest not in MANIFEST_KINDS:
        raise PlayError(f"manifest must be one of {', '.join(MANIFEST_KINDS)}")
    device = device or {"kind": "abrlab-headless", "host": os.uname().nodename if hasattr(os, "uname") else "?"}
    pb = await request_playback(control_url, api_key, title, client_id=client_id, device=device, network=network)
    stub_speed = float(pb.get("speed", 1.0))
    if speed is None:
        speed = stub_speed
    elif abs(speed - stub_speed) > 1e-9 * max(1.0, stub_speed):
        raise PlayError(f"the stub runs at speed {stub_speed:g}; the player was asked for {speed:g}")
    edges = edges_from_playback(pb)
    driver = HttpDriver(None, edges, clock=clock or ScaledClock(speed), config=driver_config, trace=trace, on_status=on_status)

    async def refresh() -> None:
        again = await request_playback(control_url, api_key, title, client_id=pb.get("client_id"), session_id=pb["session_id"])
        edges.replace_bases({e["edge_id"]: e["base_url"] for e in again["edges"]})

    driver.refresh_tokens = refresh
    spec = abr if abr is not None else pb.get("abr", {}).get("spec", "bola")
    try:
        source = await driver.load(pb["edges"][0]["manifests"][manifest])
        session = _session(source, spec, mode, config, trace, pb["session_id"])
    except BaseException:
        await driver.close()
        raise
    return PlayResult(session, source, driver, pb)
