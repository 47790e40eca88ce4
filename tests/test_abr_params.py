"""ABR parameter values the algorithms cannot mean: refused at construction with one
line naming the algorithm, the parameter, the value and what is allowed; constraints
between parameters likewise; the one the ladder decides (``fixed:rung``) clamped by its
documented rule. The bounds themselves come from each algorithm's reference semantics
(see the comments per case); here we check they are enforced and that every shipped
default and preset still lies inside them."""

import numpy as np
import pytest

from abr import AbrError, Decision, create
from abr.abandon import RULES, DashJsAbandon, describe_rules
from abr.base import AbrContext, Param
from abr.registry import available, describe_all, load_class
from player.cli.abr_cmd import _param_line
from player.config import SessionConfig
from player.presentation import Rung, Title, Track
from player.sim import simulate
from qoe.events import SegmentLoaded
from tests.conftest import shared_path
from tests.test_cli import _one_line_error, abrlab
from traces import constant_trace

LADDER = (300_000, 750_000, 1_200_000)


def ctx(buffer_s=0.0, seg_dur=4.0, max_buffer_s=60.0):
    c = AbrContext(
        rungs=tuple(Rung(b) for b in LADDER),
        bitrates_bps=LADDER,
        size_rows=[[int(b * seg_dur / 8) for b in LADDER]] * 3,
        durations=[seg_dur] * 3,
        max_buffer_s=max_buffer_s,
    )
    c.buffer_s = buffer_s
    c.segment_duration_s = seg_dur
    return c


def _title(n=6, dur=2.0):
    sizes = np.tile(np.array([int(b * dur / 8) for b in LADDER], dtype=np.int64), (n, 1))
    return Title("t", Track("video", tuple(Rung(b) for b in LADDER), np.full(n, dur), sizes))


# ----------------------------------------------------------------------------- one parameter
@pytest.mark.parametrize(
    "spec,expect",
    [
        # the examples: a safety factor of 0 spends nothing, a window of 0 never
        # estimates (FESTIVE kept fetching the lowest rung), a negative reservoir
        ("throughput:safety=0", "throughput: parameter safety=0.0: must be in (0, 1]"),
        ("throughput:safety=1.2", "throughput: parameter safety=1.2: must be in (0, 1]"),
        ("festive:window=0", "festive: parameter window=0: must be >= 1"),
        ("bba:reservoir_s=-1", "bba: parameter reservoir_s=-1.0: must be >= 0"),
        ("bba:cushion_s=0", "bba: parameter cushion_s=0.0: must be > 0"),
        ("bba1:reservoir_max_frac=1", "bba1: parameter reservoir_max_frac=1.0: must be in (0, 1)"),
        ("bola:gamma_p=0", "bola: parameter gamma_p=0.0: must be > 0"),
        # BOLA-E kept no throughput sample with 0 (del rates[:-0] empties the list)
        ("bola-e:throughput_samples=0", "bola-e: parameter throughput_samples=0: must be >= 1"),
        ("mpc:horizon=0", "mpc: parameter horizon=0: must be in [1, 16]"),
        # the planner's bound table covers 16 steps; 18 was an IndexError mid-run
        ("robustmpc:horizon=18", "robustmpc: parameter horizon=18: must be in [1, 16]"),
        ("fastmpc:throughput_bins=1", "fastmpc: parameter throughput_bins=1: must be >= 2"),
        ("mpc:rebuf_penalty=-4.3", "mpc: parameter rebuf_penalty=-4.3: must be >= 0"),
        # a zero half-life was an estimator's ValueError naming no parameter
        ("hlsjs:ewma_fast_s=0", "hlsjs: parameter ewma_fast_s=0.0: must be > 0"),
        # 0 made a 0 ms load a division by zero
        ("hlsjs:min_sample_s=0", "hlsjs: parameter min_sample_s=0.0: must be > 0"),
        ("shaka:downgrade_target=0", "shaka: parameter downgrade_target=0.0: must be in (0, 1]"),
        ("exoplayer:bandwidth_fraction=1.5", "exoplayer: parameter bandwidth_fraction=1.5: must be in (0, 1]"),
        ("exoplayer:max_weight=0", "exoplayer: parameter max_weight=0: must be >= 1"),
        ("dashjs:throughput_scale=1", "dashjs: parameter throughput_scale=1.0: must be > 1"),
        ("dashjs:stall_threshold_s=-0.3", "dashjs: parameter stall_threshold_s=-0.3: must be >= 0"),
        ("throughput:window=2.5", "throughput: parameter window='2.5': expected int"),
    ],
)
def test_out_of_range_value_is_refused_naming_it(spec, expect):
    with pytest.raises(AbrError) as err:
        create(spec)
    assert str(err.value) == expect


def _registered():
    return sorted(available())


def _outside(p):
    """Values just outside each declared end of ``p``'s bounds."""
    step = 1 if (p.type or type(p.default)) is int else 0.5
    out = []
    if p.lo is not None:
        out.append(p.lo if p.lo_open else p.lo - step)
    if p.hi is not None:
        out.append(p.hi if p.hi_open else p.hi + step)
    return out


@pytest.mark.parametrize("name", _registered())
def test_every_declared_bound_is_enforced(name):
    cls = load_class(name)
    bounded = 0
    for key, p in cls.PARAMS.items():
        for bad in _outside(p):
            bounded += 1
            with pytest.raises(AbrError, match=rf"^{name}: parameter {key}=\S+: must be "):
                create(f"{name}:{key}={bad}")
    # every algorithm with a numeric parameter declares a range for some of them
    # (fixed's rung and festive's seed are the unbounded ints, learned has a path)
    numeric = [p for p in cls.PARAMS.values() if (p.type or type(p.default)) in (int, float)]
    assert bounded or not numeric or name == "fixed"


@pytest.mark.parametrize("name", _registered())
def test_defaults_and_every_preset_still_construct(name):
    cls = load_class(name)
    objs = [create(name)] + [create(f"{name}:preset={preset}") for preset in cls.PRESETS]
    objs += [create(name, mode=mode) for mode in cls.MODE_PRESETS]
    for obj in objs:
        for key, p in cls.PARAMS.items():
            v = getattr(obj, key)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                assert p.allows(v), f"{obj.describe()}: {key}={v} outside {p.bounds}"


def test_every_abandonment_rule_constructs_and_dashjs_refuses_a_bad_value():
    for cls in RULES.values():
        cls()
    with pytest.raises(AbrError, match=r"^abandon=dashjs: parameter bandwidth_safety=0.0: must be in \(0, 1\]$"):
        DashJsAbandon(bandwidth_safety=0.0)


def test_bool_for_a_number_is_refused_and_a_whole_float_is_an_int():
    with pytest.raises(AbrError, match="parameter window=True: expected int"):
        load_class("throughput")(window=True)
    assert load_class("throughput")(window=5.0).window == 5


# ----------------------------------------------------------------------------- Param itself
def test_param_positional_form_still_works_and_bounds_read_back():
    p = Param(3, "doc", int, (1, 2, 3))
    assert (p.default, p.doc, p.type, p.choices, p.bounds) == (3, "doc", int, (1, 2, 3), "")
    assert Param(0.9, "", float, lo=0, lo_open=True, hi=1).bounds == "in (0, 1]"
    assert Param(1, "", int, lo=1).bounds == ">= 1"
    assert Param(1.0, "", float, hi=2, hi_open=True).bounds == "< 2"
    q = Param(0.5, "", float, lo=0, lo_open=True, hi=1, hi_open=True)
    assert [q.allows(x) for x in (0.0, 1e-9, 0.999, 1.0)] == [False, True, True, False]
    assert q.coerce("x", "0.25") == 0.25
    with pytest.raises(ValueError, match="outside"):
        Param(0.0, "", float, lo=0, lo_open=True)  # a default outside its own bounds


def test_abr_list_shows_the_bounds():
    rows = {r["name"]: r for r in describe_all() + describe_rules()}
    safety = rows["throughput"]["params"]["safety"]
    assert (safety["bounds"], safety["lo"], safety["hi"], safety["lo_open"], safety["hi_open"]) == ("in (0, 1]", 0, 1, True, False)
    assert rows["festive"]["params"]["window"]["bounds"] == ">= 1"
    assert "bounds" not in rows["fixed"]["params"]["rung"]
    assert rows["abandon=dashjs"]["params"]["min_samples"]["bounds"] == ">= 1"
    assert _param_line("safety", safety).startswith("safety=0.9 (in (0, 1])  fraction")
    assert _param_line("map", rows["bba"]["params"]["map"]).startswith("map='rate' (rate|index)  ")


# ----------------------------------------------------------------------------- between parameters
@pytest.mark.parametrize(
    "spec,expect",
    [
        # DYNAMIC's hysteresis: BOLA above on, back at or below off
        ("dashjs:bola_off_s=20", "dashjs: bola_off_s=20.0 must be <= bola_on_s=18.0"),
        ("dashjs:switch_history_samples=9", "dashjs: switch_history_samples=9 must be <= switch_history_depth=8"),
        ("exoplayer:max_buffer_down_s=5", "exoplayer: max_buffer_down_s=5.0 must be >= min_buffer_up_s=10.0"),
        ("fastmpc:throughput_lo_frac=2,throughput_hi_frac=2", "fastmpc: throughput_lo_frac=2.0 must be < throughput_hi_frac=2.0"),
        ("fastmpc:buffer_step_s=61", "fastmpc: buffer_step_s=61.0 must be <= buffer_max_s=60.0"),
        # gamma_p and V divide by buffer_target / minimum_buffer - 1
        ("bola-e:minimum_buffer_s=30", "bola-e: minimum_buffer_s=30.0 must be < buffer_target_s=30.0"),
        ("bba1:reservoir_max_frac=0.9,upper_reservoir_frac=0.1", "bba1: reservoir_max_frac=0.9 + upper_reservoir_frac=0.1 must be < 1"),
        ("bba2:start_gain=0.4", "bba2: end_gain=0.5 must be <= start_gain=0.4"),
    ],
)
def test_inconsistent_parameters_are_refused(spec, expect):
    with pytest.raises(AbrError) as err:
        create(spec)
    assert str(err.value).startswith(expect)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "spec",
    # the edges of each constraint are allowed
    ["dashjs:bola_off_s=18", "dashjs:switch_history_samples=8", "exoplayer:max_buffer_down_s=10",
     "fastmpc:buffer_step_s=60", "bola-e:minimum_buffer_s=29.9", "bba2:start_gain=0.5"],
)
def test_consistent_edges_are_accepted(spec):
    create(spec)


def test_bba_reservoir_must_lie_inside_the_session_buffer():
    # a reservoir of the whole buffer (or more) would fetch only the lowest rung; a
    # cushion reaching past the buffer only cuts the map (5 + 10 s in a 10 s buffer)
    a = create("bba:reservoir_s=10")
    assert a.decide(ctx(buffer_s=12.0, max_buffer_s=60.0)) == 0
    assert a.decide(ctx(buffer_s=20.1, max_buffer_s=60.0)) == 2
    with pytest.raises(AbrError, match=r"^bba: reservoir_s=10.0 must be < the session's max_buffer_s=10 "):
        a.decide(ctx(buffer_s=4.0, max_buffer_s=10.0))
    cfg = SessionConfig(max_buffer_s=10.0, startup_buffer_s=2.0, resume_buffer_s=2.0)
    with pytest.raises(AbrError, match="max_buffer_s=10"):
        simulate(_title(), constant_trace(5e6), create("bba:reservoir_s=12"), config=cfg)
    s = simulate(_title(), constant_trace(5e6), create("bba"), config=cfg)
    assert len([e for e in s.log if isinstance(e, SegmentLoaded)]) == 6


def test_bola_buffer_target_must_exceed_the_segment_duration():
    # V = (buffer_s - duration) / (v_M + gamma_p) <= 0 made BOLA pick the top rung at any level
    with pytest.raises(AbrError, match=r"^bola-u: buffer_s=4.0 must exceed the segment duration 4 s$"):
        create("bola-u:buffer_s=4").decide(ctx(buffer_s=1.0, seg_dur=4.0))
    assert create("bola:buffer_s=4.5").decide(ctx(buffer_s=0.0, seg_dur=4.0)) == 0


# ----------------------------------------------------------------------------- fixed:rung
@pytest.mark.parametrize("rung,want", [(0, 0), (2, 2), (-1, 2), (-3, 0)])
def test_fixed_rung_inside_the_ladder_is_taken_as_is(rung, want):
    assert create(f"fixed:rung={rung}").decide(ctx()) == want


@pytest.mark.parametrize("rung,want", [(3, 2), (99, 2), (-4, 0), (-99, 0)])
def test_fixed_rung_beyond_the_ladder_is_clamped_and_says_so(rung, want):
    d = create(f"fixed:rung={rung}").decide(ctx())
    assert isinstance(d, Decision) and d.rung == want and d.delay_s == 0.0
    assert d.reason == f"fixed: rung={rung} is outside the 3-rung ladder, clamped to rung {want}"
    # a whole session (default mode: no configured first rung) plays that rung throughout
    s = simulate(_title(), constant_trace(5e6), create(f"fixed:rung={rung}"), mode="default")
    assert [e.rung for e in s.log if isinstance(e, SegmentLoaded)] == [want] * 6


# ----------------------------------------------------------------------------- the CLI
def test_cli_refuses_a_bad_abr_parameter_in_one_line():
    trace = shared_path("traces", "hsdpa3g", "report.2010-09-13_1003CEST.json")
    r = abrlab("replay", "-q", "--trace", trace, "--content", shared_path("content", "envivio.json"),
               "--abr", "throughput:safety=0")
    line = _one_line_error(r)
    assert line == "abrlab: error: throughput: parameter safety=0.0: must be in (0, 1]"
