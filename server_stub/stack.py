"""A whole stub deployment in one process: origin, N edges, control plane.

The topology is a TOML file (every key optional; with no file, the defaults below)::

    [stack]
    host = "127.0.0.1"        # loopback by default; anything else needs allow_public
    allow_public = false
    speed = 1.0               # shape traces k times faster (players must match)
    secret = "..."            # token signing secret; random when absent
    api_keys = ["dev-key"]    # control-plane API keys; one random key when absent
    admin_key = "..."         # edges' admin API key; random when absent

    [origin]
    port = 0                  # 0 = any free port

    [[title]]                 # repeat; generated titles ...
    name = "cartoon"
    complexity = "low"        # low | medium | high | a number (1 = reference)
    ladder = "per-title"      # or "fixed" (Netflix's classic ladder)
    segments = 60
    segment_duration_s = 4.0
    variability = 0.25
    audio_kbps = [64, 128]
    seed = 1
    live = false              # true: a live event that starts with the stack (DASH dynamic, HLS EVENT)

    [[title]]                 # ... or a Sabre movie JSON, path relative to this file
    name = "envivio"
    sabre_movie = "../shared/content/envivio.json"

    [edges]
    count = 2
    port = 0                  # first edge's port (+1 for each next); 0 = any
    cache_mb = 256
    backbone_latency_s = 0.02
    tick_s = 0.01             # shaping granularity in trace seconds (>= 1 ms of wall time)

    [control]
    port = 0
    token_ttl_s = 3600
    abr = "bola"              # the recommendation until a recommender exists
    health_interval_s = 1.0
    fail_threshold = 2

Defaults: two edges, and four generated 60-segment titles: ``demo-low``,
``demo-medium`` and ``demo-high`` on per-title ladders, and ``demo-fixed`` (medium
complexity on the fixed ladder, for comparison).
"""

from __future__ import annotations

import ipaddress
import secrets
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from server_stub.catalog import Catalog, CatalogError, CatalogTitle, LiveClock, generate_title, title_from_sabre_movie
from server_stub.control import ControlConfig, ControlPlane, make_control_app
from server_stub.edge import Edge, EdgeConfig, make_edge_app, reset_connection
from server_stub.origin import Origin, make_origin_app
from server_stub.shaping import ShapingConfig


class TopologyError(ValueError):
    """A topology file the stack cannot run; one line naming the file and key."""


@dataclass
class TitleSpec:
    name: str
    sabre_movie: Path | None = None
    complexity: float | str = 1.0
    ladder: str = "per-title"
    segments: int = 60
    segment_duration_s: float = 4.0
    variability: float = 0.25
    audio_kbps: list[int] = field(default_factory=list)
    seed: int = 0
    live: bool = False

    def build(self) -> CatalogTitle:
        if self.sabre_movie is not None:
            t = title_from_sabre_movie(self.sabre_movie, self.name)
        else:
            t = generate_title(
                self.name, self.complexity, ladder=self.ladder, n_segments=self.segments,
                segment_duration_s=self.segment_duration_s, variability=self.variability,
                audio_kbps=self.audio_kbps, seed=self.seed,
            )
        t.live = bool(self.live)
        return t


DEFAULT_TITLES = (
    TitleSpec("demo-low", complexity="low", seed=1),
    TitleSpec("demo-medium", complexity="medium", seed=2),
    TitleSpec("demo-high", complexity="high", seed=3),
    TitleSpec("demo-fixed", complexity="medium", ladder="fixed", seed=2),
)


@dataclass
class Topology:
    host: str = "127.0.0.1"
    allow_public: bool = False
    speed: float = 1.0
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    api_keys: list[str] = field(default_factory=lambda: [secrets.token_urlsafe(16)])
    admin_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    origin_port: int = 0
    titles: list[TitleSpec] = field(default_factory=lambda: list(DEFAULT_TITLES))
    edge_count: int = 2
    edge_port: int = 0
    cache_bytes: int = 256 * 1024 * 1024
    backbone_latency_s: float = 0.02
    tick_s: float = 0.01
    control_port: int = 0
    token_ttl_s: float = 3600.0
    abr: str = "bola"
    health_interval_s: float = 1.0
    fail_threshold: int = 2

    def validate(self, where: str = "topology") -> None:
        def bad(msg: str) -> TopologyError:
            return TopologyError(f"{where}: {msg}")

        try:
            ip = ipaddress.ip_address(self.host)
            loop = ip.is_loopback
        except ValueError:
            loop = self.host == "localhost"
        if not loop and not self.allow_public:
            raise bad(f"stack.host {self.host!r} is not a loopback address; set stack.allow_public = true to bind it")
        if not self.speed > 0:
            raise bad("stack.speed must be positive")
        if self.edge_count < 1:
            raise bad("edges.count must be >= 1")
        if self.cache_bytes < 0:
            raise bad("edges.cache_mb must be >= 0")
        if self.backbone_latency_s < 0 or self.tick_s <= 0:
            raise bad("edges.backbone_latency_s must be >= 0 and edges.tick_s > 0")
        if not self.api_keys or not all(isinstance(k, str) and k for k in self.api_keys):
            raise bad("stack.api_keys must be a non-empty list of strings")
        if len(self.secret) < 16:
            raise bad("stack.secret must be at least 16 characters")
        if not self.titles:
            raise bad("no titles")
        names = [t.name for t in self.titles]
        if len(set(names)) != len(names):
            raise bad(f"duplicate title names in {names}")
        for p in (self.origin_port, self.edge_port, self.control_port):
            if not 0 <= p <= 65535:
                raise bad(f"port {p} out of range")


_KNOWN = {
    "stack": {"host", "allow_public", "speed", "secret", "api_keys", "admin_key"},
    "origin": {"port"},
    "edges": {"count", "port", "cache_mb", "backbone_latency_s", "tick_s"},
    "control": {"port", "token_ttl_s", "abr", "health_interval_s", "fail_threshold"},
    "title": {"name", "sabre_movie", "complexity", "ladder", "segments", "segment_duration_s", "variability", "audio_kbps", "seed", "live"},
}


def load_topology(path: str | Path | None = None, **overrides: Any) -> Topology:
    """Read a topology file (or the defaults); ``overrides`` are Topology fields."""
    topo = Topology()
    where = "defaults"
    if path is not None:
        p = Path(path)
        where = str(p)
        try:
            data = tomllib.loads(p.read_text())
        except FileNotFoundError:
            raise TopologyError(f"{p}: no such file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise TopologyError(f"{p}: cannot read ({e})") from None
        except tomllib.TOMLDecodeError as e:
            raise TopologyError(f"{p}: not valid TOML ({e})") from None
        _apply(topo, data, p)
    for k, v in overrides.items():
        if v is not None:
            setattr(topo, k, v)
    topo.validate(where)
    return topo


def _apply(topo: Topology, data: dict[str, Any], path: Path) -> None:
    for section, value in data.items():
        if section not in _KNOWN:
            raise TopologyError(f"{path}: unknown section [{section}] (known: {', '.join(sorted(_KNOWN))})")
        if section == "title":
            if not isinstance(value, list):
                raise TopologyError(f"{path}: titles are [[title]] tables")
            continue
        unknown = set(value) - _KNOWN[section]
        if unknown:
            raise TopologyError(f"{path}: [{section}] has unknown key(s) {', '.join(sorted(unknown))}")

    def get(section: str, key: str, typ: type | tuple[type, ...], attr: str, scale: float = 1.0) -> None:
        sec = data.get(section, {})
        if key in sec:
            v = sec[key]
            if isinstance(v, bool) and typ is not bool:
                raise TopologyError(f"{path}: [{section}] {key} must be a number")
            if not isinstance(v, typ):
                raise TopologyError(f"{path}: [{section}] {key} has the wrong type ({type(v).__name__})")
            setattr(topo, attr, type(getattr(topo, attr))(v * scale) if scale != 1.0 else v)

    get("stack", "host", str, "host")
    get("stack", "allow_public", bool, "allow_public")
    get("stack", "speed", (int, float), "speed")
    get("stack", "secret", str, "secret")
    get("stack", "api_keys", list, "api_keys")
    get("stack", "admin_key", str, "admin_key")
    get("origin", "port", int, "origin_port")
    get("edges", "count", int, "edge_count")
    get("edges", "port", int, "edge_port")
    get("edges", "cache_mb", (int, float), "cache_bytes", 1024 * 1024)
    get("edges", "backbone_latency_s", (int, float), "backbone_latency_s")
    get("edges", "tick_s", (int, float), "tick_s")
    get("control", "port", int, "control_port")
    get("control", "token_ttl_s", (int, float), "token_ttl_s")
    get("control", "abr", str, "abr")
    get("control", "health_interval_s", (int, float), "health_interval_s")
    get("control", "fail_threshold", int, "fail_threshold")
    if "title" in data:
        titles = []
        for i, t in enumerate(data["title"], start=1):
            unknown = set(t) - _KNOWN["title"]
            if unknown:
                raise TopologyError(f"{path}: [[title]] #{i} has unknown key(s) {', '.join(sorted(unknown))}")
            if not isinstance(t.get("name"), str):
                raise TopologyError(f"{path}: [[title]] #{i} needs a name")
            spec = TitleSpec(name=t["name"])
            if "sabre_movie" in t:
                spec.sabre_movie = (path.parent / str(t["sabre_movie"])).resolve()
            for key in ("complexity", "ladder", "segments", "segment_duration_s", "variability", "audio_kbps", "seed", "live"):
                if key in t:
                    setattr(spec, key, t[key])
            titles.append(spec)
        topo.titles = titles


class _Service:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, host: str, port: int) -> str:
        # Short shutdown grace: a stalled (fault-injected) response must not hold a stop.
        self.runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        h, p = sock.getsockname()[:2]
        self.url = f"http://{h if ':' not in h else f'[{h}]'}:{p}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def kill(self) -> None:
        """Die like a machine: reset every open connection, close the port."""
        if self.runner is None:
            return
        server = self.runner.server
        for handler in server.connections if server is not None else []:
            reset_connection(handler.transport)
        await self.stop()


class Stack:
    """Start with ``async with Stack(topology) as s:``; URLs in ``s.origin_url``,
    ``s.control_url``, ``s.edge_urls``."""

    def __init__(self, topology: Topology | None = None, catalog: Catalog | None = None) -> None:
        self.topology = topo = topology or Topology()
        topo.validate()
        try:
            self.catalog = catalog or Catalog([t.build() for t in topo.titles])
        except CatalogError as e:
            raise TopologyError(str(e)) from None
        self.origin_key = secrets.token_urlsafe(16)
        self.control_key = secrets.token_urlsafe(16)
        self.origin = Origin(self.catalog, self.origin_key, LiveClock(time.time(), topo.speed))
        self._origin_svc = _Service(make_origin_app(self.origin))
        self.control: ControlPlane | None = None
        self._control_svc: _Service | None = None
        self.edges: list[Edge] = []
        self._edge_svcs: list[_Service] = []

    @property
    def origin_url(self) -> str:
        return self._origin_svc.url

    @property
    def control_url(self) -> str:
        return self._control_svc.url if self._control_svc else ""

    @property
    def edge_urls(self) -> list[str]:
        return [s.url for s in self._edge_svcs]

    @property
    def api_key(self) -> str:
        return self.topology.api_keys[0]

    def edge_config(self, i: int) -> EdgeConfig:
        t = self.topology
        return EdgeConfig(
            edge_id=f"edge{i + 1}",
            origin_url=self.origin_url,
            secret=t.secret,
            admin_key=t.admin_key,
            origin_key=self.origin_key,
            cache_bytes=t.cache_bytes,
            backbone_latency_s=t.backbone_latency_s,
            shaping=ShapingConfig(speed=t.speed, tick_s=t.tick_s),
        )

    async def start(self) -> "Stack":
        t = self.topology
        # Live events start with the stack.
        self.origin.live_clock = LiveClock(time.time(), t.speed)
        await self._origin_svc.start(t.host, t.origin_port)
        self.control = ControlPlane(
            ControlConfig(
                secret=t.secret, api_keys=list(t.api_keys), control_key=self.control_key,
                origin_url=self.origin_url, origin_key=self.origin_key, token_ttl_s=t.token_ttl_s,
                abr_default=t.abr, speed=t.speed, health_interval_s=t.health_interval_s,
                fail_threshold=t.fail_threshold,
            )
        )
        self._control_svc = _Service(make_control_app(self.control))
        await self._control_svc.start(t.host, t.control_port)
        for i in range(t.edge_count):
            await self.add_edge(t.edge_port + i if t.edge_port else 0)
        return self

    async def add_edge(self, port: int = 0) -> Edge:
        i = len(self.edges)
        edge = Edge(self.edge_config(i))
        svc = _Service(make_edge_app(edge))
        edge.url = await svc.start(self.topology.host, port)
        self.edges.append(edge)
        self._edge_svcs.append(svc)
        await edge.register_with_control(self.control_url, self.control_key)
        return edge

    async def kill_edge(self, i: int) -> None:
        """Stop edge ``i`` for real: its port closes and open connections drop."""
        await self._edge_svcs[i].kill()

    async def stop(self) -> None:
        for svc in self._edge_svcs:
            await svc.stop()
        if self._control_svc is not None:
            await self._control_svc.stop()
        await self._origin_svc.stop()

    async def __aenter__(self) -> "Stack":
        try:
            return await self.start()
        except BaseException:
            await self.stop()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def describe(self) -> dict[str, Any]:
        return {
            "control": self.control_url,
            "origin": self.origin_url,
            "edges": {e.config.edge_id: e.url for e in self.edges},
            "api_key": self.api_key,
            "admin_key": self.topology.admin_key,
            "speed": self.topology.speed,
            "titles": self.catalog.names(),
        }
