"""Playing real parsed manifests in simulation: video + audio pipelines, text fetched,
estimated sizes replaced by real ones."""

import numpy as np
import pytest

from abr import create
from player.manifest import parse_manifest, to_title
from player.manifest.resolve import resolve_manifest
from player.presentation import Rung, Title, Track
from player.session import FetchSegment, Session
from player.sim import simulate
from qoe.events import SegmentLoaded, SegmentRequested, StallStart
from tests.conftest import shared_path
from traces import constant_trace


def _maat():
    p = shared_path("manifests", "vjsmpd__maat_vtt_segmentTemplate.mpd")
    return to_title(parse_manifest(p.read_bytes(), str(p)))


def test_real_manifest_plays_video_audio_and_text():
    title = _maat()
    assert [r.bitrate_bps for r in title.video.rungs] == [449000, 3971000]
    assert title.audio is not None and [r.bitrate_bps for r in title.audio.rungs] == [63000, 125000]
    assert [t.language for t in title.text] == ["en", "es"]
    assert not title.video.sizes_known
    # Estimated sizes: bandwidth x duration / 8 (the last segment is cut at the 6 s end).
    d = 46046 / 24000
    assert title.video.sizes_bytes[0, 1] == round(3971000 * d / 8)
    assert title.video.segment_durations_s[-1] == pytest.approx(6 - 3 * d)
    s = simulate(title, constant_trace(5e6, 100.0), create("bola"), audio_abr=create("throughput"))
    loads = [e for e in s.log if isinstance(e, SegmentLoaded)]
    by_media = {m: [e.index for e in loads if e.media == m] for m in ("video", "audio", "text", "text.1")}
    assert by_media == {"video": [0, 1, 2, 3], "audio": [0, 1, 2, 3], "text": [0], "text.1": [0]}
    assert s.end_reason == "completed" and s.playhead_s == pytest.approx(6.0)
    # Text is requested only after video got ahead of it, and never counts as buffer.
    first_video = next(e.t for e in loads if e.media == "video")
    text_req = next(e for e in s.log if isinstance(e, SegmentRequested) and e.media == "text")
    assert text_req.t >= first_video
    assert all(e.buffer_s == 0.0 for e in loads if e.media.startswith("text"))
    # The HTTP driver's view: URL of what was fetched.
    assert s.track("text.1").segment_ref(0, 0).url == "https://example.com/es.vtt"
    assert s.track("audio").segment_ref(3, 1).url == "https://www.example.com/125000/3.m4f"


def test_playback_stalls_when_audio_runs_dry():
    n = 10
    video = Track("video", (Rung(100_000),), np.full(n, 2.0), np.full((n, 1), 2_500))
    audio = Track("audio", (Rung(2_000_000),), np.full(n, 2.0), np.full((n, 1), 750_000))
    link = lambda: constant_trace(2e6, 1000.0)  # noqa: E731
    alone = simulate(Title("v", video), link(), create("fixed"))
    both = simulate(Title("va", video, audio), link(), create("fixed"), audio_abr=create("fixed"))
    assert alone.stall_count == 0
    assert both.stall_count > 0  # 750 kB of audio per 2 s segment over 250 kB/s: audio is the bottleneck
    stall = next(e for e in both.log if isinstance(e, StallStart))
    audio_loaded = sum(1 for e in both.log if isinstance(e, SegmentLoaded) and e.media == "audio" and e.t <= stall.t)
    assert stall.position_s == pytest.approx(2.0 * audio_loaded)  # played exactly the audio it had


def test_real_size_replaces_the_estimate():
    title = _maat()
    s = Session(title, create("fixed"), audio_abr=create("fixed"), text_tracks=())
    s.start(0.0)
    req = s.next_action(0.0)
    assert isinstance(req, FetchSegment) and req.size_bytes == title.video.sizes_bytes[0, 0]
    s.segment_loaded(1.0, req, size_bytes=123_456, ttfb_s=0.1)
    ev = [e for e in s.log if isinstance(e, SegmentLoaded)][-1]
    assert ev.size_bytes == 123_456
    assert s.video.ctx.samples[-1].size_bytes == 123_456


def test_hls_master_resolved_from_files(tmp_path):
    (tmp_path / "master.m3u8").write_text(
        '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",DEFAULT=YES,URI="audio.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="a"\nlo.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\naudio-only.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=2400000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="a"\nhi.m3u8\n')
    for name in ("lo", "hi", "audio", "audio-only"):
        (tmp_path / f"{name}.m3u8").write_text(
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n"
            + "".join(f"#EXTINF:4,\n{name}/{i}.m4s\n" for i in range(3)) + "#EXTINF:2,\n" + f"{name}/3.m4s\n#EXT-X-ENDLIST\n")
    m = parse_manifest((tmp_path / "master.m3u8").read_bytes(), str(tmp_path / "master.m3u8"))
    resolve_manifest(m)  # local files through the default fetcher
    assert m.is_live is False and m.duration_s == 14.0
    title = to_title(m)
    assert [r.bitrate_bps for r in title.video.rungs] == [800000, 2400000]  # audio-only variant left out
    assert title.video.segment_durations_s.tolist() == [4.0, 4.0, 4.0, 2.0]
    assert title.video.segment_ref(3, 1).url.endswith("/hi/3.m4s")
    assert title.video.init_ref(0, 0).url.endswith("/init.mp4")
    assert title.audio is not None and title.audio.n_segments == 4
    s = simulate(title, constant_trace(3e6, 100.0), create("throughput"), audio_abr=create("fixed"))
    assert s.end_reason == "completed" and s.playhead_s == pytest.approx(14.0)


def test_title_is_named_after_its_directory_when_the_file_name_is_generic():
    from player.manifest.titles import _title_name

    assert _title_name("http://edge/t/tok/titles/demo-medium/manifest.mpd") == "demo-medium"
    assert _title_name("https://cdn.example/show/ep1/master.m3u8") == "ep1"
    assert _title_name("/data/bbb_sunflower.mpd") == "bbb_sunflower"
    assert _title_name("manifest.mpd") == "manifest"
