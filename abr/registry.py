"""Finding algorithms by name and building them from a spec string.

A spec is ``NAME[:key=value,key=value...]`` where NAME is a registered name
(``bola``), a name another package registered in the ``abrlab.abr`` entry-point group,
or ``package.module:Class`` for code that is not registered at all::

    bola:gamma_p=5,buffer_s=25
    bba:preset=pensieve
    mypkg.mod:MyAbr:alpha=0.3

The class is instantiated with the parameters as keyword arguments (strings are
coerced by the class's ``PARAMS`` when it declares them). When no ``preset`` is given
and the class maps the simulator mode to one (``MODE_PRESETS``), that preset is used.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from abr.base import AbrError

ENTRY_POINT_GROUP = "abrlab.abr"

# Our own algorithms. Further modules add themselves here (one line each).
BUILTIN: dict[str, str] = {
    "fixed": "abr.fixed:Fixed",
    "throughput": "abr.throughput:ThroughputRule",
    "bba": "abr.bba:Bba",
    "bola": "abr.bola:BolaBasic",
    "mpc": "abr.mpc:Mpc",
    "robustmpc": "abr.mpc:RobustMpc",
    "fastmpc": "abr.mpc:FastMpc",
    "bba1": "abr.bba:Bba1",
    "bba2": "abr.bba:Bba2",
    "bola-u": "abr.bola:BolaU",
    "bola-o": "abr.bola:BolaO",
    "bola-e": "abr.bola:BolaE",
    "festive": "abr.festive:Festive",
    "hlsjs": "abr.hlsjs:HlsJs",
    "shaka": "abr.shaka:Shaka",
    "exoplayer": "abr.exoplayer:ExoPlayer",
    "dashjs": "abr.dashjs:DashJsDynamic",
    "learned": "abr.learned:LearnedAbr",
}


@dataclass(frozen=True)
class AbrSpec:
    """A parsed spec: what to build and with which overrides."""

    name: str
    params: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def __str__(self) -> str:
        return self.text or self.name


@functools.lru_cache(maxsize=1)
def _entry_point_targets() -> dict[str, str]:
    try:
        eps = entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # pragma: no cover - broken metadata in the environment
        return {}
    return {ep.name: ep.value for ep in eps}


def available() -> dict[str, str]:
    """Every known name -> ``module:Class`` (ours first, entry points may add more)."""
    out = dict(BUILTIN)
    for name, target in _entry_point_targets().items():
        out.setdefault(name, target)
    return out


def parse_spec(text: str) -> AbrSpec:
    s = text.strip()
    if not s:
        raise AbrError("empty ABR spec")
    name, sep, rest = s.partition(":")
    head = rest.split(":", 1)[0]
    if sep and head and "=" not in head and name not in available():
        # module:Class[:params] (a registered name is followed by parameters instead)
        cls_name, _, rest = rest.partition(":")
        name = f"{name}:{cls_name}"
    params: dict[str, str] = {}
    if rest:
        for item in rest.split(","):
            item = item.strip()
            if not item:
                continue
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise AbrError(f"ABR spec {text!r}: expected key=value, got {item!r}")
            params[key.strip()] = value.strip()
    return AbrSpec(name=name, params=params, text=s)


def split_specs(text: str) -> list[str]:
    """Split ``bba,bola:gamma_p=5,buffer_s=25,throughput`` into three specs: a comma
    item with ``=`` (and no ``:``) continues the previous spec's parameters."""
    out: list[str] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" in item and ":" not in item and out:
            out[-1] = out[-1] + ("," if not out[-1].endswith(":") else "") + item
        else:
            out.append(item)
    return out


def load_class(name: str) -> type:
    target = available().get(name)
    if target is None:
        if ":" not in name:
            known = ", ".join(sorted(available()))
            raise AbrError(f"unknown ABR algorithm {name!r} (known: {known}; or give module:Class)")
        target = name
    mod_name, _, cls_name = target.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise AbrError(f"cannot import ABR module {mod_name!r}: {e}") from None
    try:
        cls = getattr(mod, cls_name)
    except AttributeError:
        raise AbrError(f"module {mod_name!r} has no {cls_name!r}") from None
    if not callable(getattr(cls, "decide", None)):
        raise AbrError(f"{target} has no decide(ctx) method")
    return cls


def create(spec: str | AbrSpec, mode: str | None = None) -> Any:
    """Build a fresh algorithm object from a spec (see the module docstring)."""
    sp = parse_spec(spec) if isinstance(spec, str) else spec
    cls = load_class(sp.name)
    params: dict[str, Any] = dict(sp.params)
    # ``abandon=RULE`` attaches an abandonment rule (abr.abandon) to any algorithm.
    abandon = params.pop("abandon", None)
    if "preset" not in params and mode is not None:
        preset = getattr(cls, "MODE_PRESETS", {}).get(mode)
        if preset is not None:
            params["preset"] = preset
    try:
        obj = cls(**params)
    except AbrError:
        raise
    except TypeError as e:
        raise AbrError(f"{sp.name}: bad parameters ({e})") from None
    except ValueError as e:  # an estimator or rule refusing a value (window=0, ...)
        raise AbrError(f"{sp.name}: {e}") from None
    if not getattr(obj, "name", None):
        try:
            obj.name = sp.name
        except AttributeError:
            pass
    if abandon is not None and abandon not in ("", "none"):
        from abr.abandon import WithAbandonment, make_rule

        obj = WithAbandonment(obj, make_rule(abandon), abandon)
    return obj


def describe_all() -> list[dict[str, Any]]:
    """Name, family, source and parameters of every algorithm, for ``abrlab abr list``."""
    rows = []
    for name, target in available().items():
        try:
            cls = load_class(name)
        except AbrError as e:
            rows.append({"name": name, "target": target, "error": str(e)})
            continue
        params = {k: p.describe() for k, p in getattr(cls, "PARAMS", {}).items()}
        rows.append(
            {
                "name": name,
                "target": target,
                "family": getattr(cls, "family", ""),
                "source": getattr(cls, "source", ""),
                "params": params,
                "presets": dict(getattr(cls, "PRESETS", {})),
                "mode_presets": dict(getattr(cls, "MODE_PRESETS", {})),
            }
        )
    return rows
