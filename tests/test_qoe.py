"""QoE models and KPIs against hand-computed values; events <-> record consistency."""

import json
import math

import pytest

from abr import create
from player.presentation import load_title
from player.sim import simulate
from qoe.events import (
    EVENT_TYPES,
    AbrChanged,
    SCHEMA_VERSION,
    BufferLevel,
    Error,
    ManifestLoaded,
    PlaybackStart,
    QualitySwitch,
    SchemaError,
    SegmentAbandoned,
    SegmentLoaded,
    SegmentRequested,
    SessionEnd,
    SessionStart,
    StallEnd,
    StallStart,
    event_from_dict,
)
from qoe.metrics import PlaybackRecord, hd_utility, kpis, per_segment_rewards, qoe
from traces import load_trace
from tests.conftest import shared_path


def _rec():
    # Four 4 s segments at 0.3, 0.75, 0.75, 4.3 Mbps; 2 s startup; a 0.5 s stall charged
    # to segment 2 and a 1.0 s stall charged to segment 4.
    return PlaybackRecord(
        bitrates_bps=[300_000, 750_000, 750_000, 4_300_000],
        rungs=[0, 1, 1, 5],
        durations_s=[4.0, 4.0, 4.0, 4.0],
        stall_s=[0.0, 0.5, 0.0, 1.0],
        startup_s=2.0,
        started=True,
        stall_count=2,
        rebuffer_s=1.5,
        played_s=16.0,
    )


def test_qoe_lin_hand_computed():
    # sum q = 6.1; rebuffer 4.3 x (2.0 + 0.5 + 1.0); smoothness 0.45 + 0 + 3.55
    assert qoe(_rec(), "lin") == pytest.approx(6.1 - 4.3 * 3.5 - 4.0)
    # Pensieve's report: chunks 2..4 only (startup not penalised)
    assert qoe(_rec(), "lin", drop_first=True) == pytest.approx(5.8 - 4.3 * 1.5 - 4.0)
    # Pensieve's first chunk is compared with the 750 kbps default
    r = per_segment_rewards(_rec(), "lin", first_reference_bps=750_000)
    assert r[0] == pytest.approx(0.3 - 4.3 * 2.0 - 0.45)


def test_qoe_log_hand_computed():
    q = [0.0, math.log(2.5), math.log(2.5), math.log(4.3 / 0.3)]
    smooth = abs(q[1] - q[0]) + 0 + abs(q[3] - q[2])
    assert qoe(_rec(), "log") == pytest.approx(sum(q) - 2.66 * 3.5 - smooth)


def test_qoe_hd_hand_computed():
    # HD map {0.3:1, 0.75:2, 4.3:20}; rebuffer penalty 8
    assert qoe(_rec(), "hd") == pytest.approx((1 + 2 + 2 + 20) - 8 * 3.5 - (1 + 0 + 18))
    assert hd_utility(1.0) == pytest.approx(2 + 0.25 / 0.45)
    assert hd_utility(10.0) == 20.0 and hd_utility(0.1) == 1.0


def test_qoe_yin_hand_computed():
    # kbps: 6100 - 1 x 4000 - 3000 x 1.5 (stalls) - 3000 x 2.0 (startup)
    assert qoe(_rec(), "yin") == pytest.approx(6100 - 4000 - 4500 - 6000)


def test_kpis_hand_computed():
    k = kpis(_rec(), n_rungs=6)
    assert k.avg_bitrate_kbps == pytest.approx((300 + 750 + 750 + 4300) / 4)
    assert k.switches == 2
    assert k.switch_magnitude_kbps == pytest.approx((450 + 3550) / 2)
    assert k.time_per_rung_s == [4.0, 8.0, 0.0, 0.0, 0.0, 4.0]
    assert k.stall_ratio == pytest.approx(1.5 / 17.5)
    assert k.stalls == 2 and k.startup_s == 2.0


def test_unknown_model_rejected():
    with pytest.raises(ValueError):
        qoe(_rec(), "nope")


SAMPLES = [
    SessionStart(0.0, "s1", "t", "bba", "default", "trace", {"max_buffer_s": 50.0}),
    ManifestLoaded(0.1, "http://x/m.mpd", "dash", [300_000, 750_000], 60.0),
    SegmentRequested(0.2, "video", 0, 1, 750_000, 1000, 0.0),
    SegmentLoaded(1.2, "video", 0, 1, 750_000, 1000, 0.1, 0.9, 4.0, 0.0, 4.0),
    SegmentAbandoned(2.0, "video", 1, 5, 500, 9000, 0),
    QualitySwitch(2.0, "video", 1, 1, 0, 750_000, 300_000),
    BufferLevel(2.5, "video", 3.5),
    PlaybackStart(1.2, 1.2),
    StallStart(6.0, 4.0),
    StallEnd(7.0, 1.0),
    Error(7.5, "http", "503 Service Unavailable", False, "http://x/seg"),
    AbrChanged(8.0, "video", "bola:gamma_p=5.0,buffer_s=25.0,sizes=nominal", "bba:reservoir_s=5.0"),
    SessionEnd(20.0, "completed", 16.0),
]


def test_every_event_type_round_trips_through_json():
    assert {type(e) for e in SAMPLES} == set(EVENT_TYPES.values())
    for e in SAMPLES:
        d = json.loads(json.dumps(e.to_dict()))
        assert d["type"] == e.type and d["v"] == SCHEMA_VERSION
        assert event_from_dict(d) == e


def test_schema_rejects_bad_events_and_ignores_unknown_fields():
    d = SAMPLES[3].to_dict()
    d["future_field"] = 1
    assert event_from_dict(d) == SAMPLES[3]
    with pytest.raises(SchemaError):
        event_from_dict({"type": "nope", "t": 0})
    with pytest.raises(SchemaError):
        event_from_dict({**SAMPLES[0].to_dict(), "v": SCHEMA_VERSION + 1})
    missing = SAMPLES[3].to_dict()
    del missing["rung"]
    with pytest.raises(SchemaError):
        event_from_dict(missing)
    with pytest.raises(SchemaError):
        event_from_dict({"type": "stall_end", "t": "soon", "duration_s": 1.0})


@pytest.mark.parametrize("mode", ["pensieve", "sabre", "default"])
def test_record_from_events_equals_core_record(mode):
    # The collector scores sessions from events; the simulator from its own record.
    title = load_title(shared_path("content", "envivio.json"))
    files = sorted(shared_path("traces", "hsdpa3g").glob("*.json"))[:12]
    for spec in ("bba", "throughput", "bola"):
        algo = create(spec, mode=mode)
        for f in files:
            s = simulate(title, load_trace(f), algo, mode=mode)
            from_events = PlaybackRecord.from_events(event_from_dict(e.to_dict()) for e in s.log)
            assert from_events == s.record()
            for m in ("lin", "log", "hd", "yin"):
                assert qoe(from_events, m) == qoe(s.record(), m)
