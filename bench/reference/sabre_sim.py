"""A plain transliteration of the Sabre simulator's core loop (UMass-LIDS/sabre,
src/sabre.py, MMSys 2018): its NetworkModel (per-entry latency, prorated across entries;
bits pushed entry by entry), its buffer accounting (``deplete_buffer``: a list of
segments plus the played fraction of the first), the startup and full-buffer waits,
and its BOLA (``Bola.__init__`` / ``quality_from_buffer``, the BOLA-BASIC decision).

Globals are gathered in one object, seeking, replacement, abandonment and the
reaction-time bookkeeping are left out; otherwise the statements and their order are
Sabre's, in Sabre's units (ms, bits, kbit/s). It is the independent reference our
``--mode sabre`` is checked against; it shares no code with abrlab.
"""

import math


class _Net:
    def __init__(self, trace):
        # trace: list of (duration_ms, bandwidth_kbps, latency_ms)
        self.trace = trace
        self.index = -1
        self.time_to_next = 0
        self.next_network_period()

    def next_network_period(self):
        self.index += 1
        if self.index == len(self.trace):
            self.index = 0
        self.time_to_next = self.trace[self.index][0]

    def do_latency_delay(self, delay_units):
        total_delay = 0
        while delay_units > 0:
            current_latency = self.trace[self.index][2]
            time = delay_units * current_latency
            if time <= self.time_to_next:
                total_delay += time
                self.time_to_next -= time
                delay_units = 0
            else:
                total_delay += self.time_to_next
                delay_units -= self.time_to_next / current_latency
                self.next_network_period()
        return total_delay

    def do_download(self, size):
        total_download_time = 0
        while size > 0:
            current_bandwidth = self.trace[self.index][1]
            if size <= self.time_to_next * current_bandwidth:
                time = size / current_bandwidth
                total_download_time += time
                self.time_to_next -= time
                size = 0
            else:
                total_download_time += self.time_to_next
                size -= self.time_to_next * current_bandwidth
                self.next_network_period()
        return total_download_time

    def delay(self, time):
        while time > self.time_to_next:
            time -= self.time_to_next
            self.next_network_period()
        self.time_to_next -= time

    def download(self, size):
        latency = self.do_latency_delay(1)
        time = latency + self.do_download(size)
        return time, latency


class FixedAbr:
    def __init__(self, quality):
        self.quality = quality

    def get_first_quality(self):
        return self.quality

    def get_quality_delay(self, sim, segment_index):
        return self.quality, 0


class BolaBasicAbr:
    """Sabre's Bola constructor and quality_from_buffer: the BOLA-BASIC decision."""

    def __init__(self, bitrates, segment_time, buffer_size, gp):
        utility_offset = -math.log(bitrates[0])
        self.utilities = [math.log(b) + utility_offset for b in bitrates]
        self.gp = gp
        self.buffer_size = buffer_size
        self.bitrates = bitrates
        self.Vp = (self.buffer_size - segment_time) / (self.utilities[-1] + self.gp)

    def get_first_quality(self):
        return 0

    def get_quality_delay(self, sim, segment_index):
        level = sim.get_buffer_level()
        quality = 0
        score = None
        for q in range(len(self.bitrates)):
            s = ((self.Vp * (self.utilities[q] + self.gp) - level) / self.bitrates[q])
            if score is None or s > score:
                quality = q
                score = s
        return quality, 0


class SabreSim:
    def __init__(self, segment_time, bitrates, segments, trace, buffer_size_ms=25000):
        self.segment_time = segment_time
        self.bitrates = bitrates
        self.segments = segments  # bits, [segment][quality]
        self.buffer_contents = []
        self.buffer_fcc = 0
        self.rebuffer_event_count = 0
        self.rebuffer_time = 0
        self.rebuffer_starts = []  # the part of each new stall inside the call that began it
        self.total_play_time = 0
        self.buffer_size = buffer_size_ms
        self.network = _Net(trace)
        self.qualities = []

    def get_buffer_level(self):
        return self.segment_time * len(self.buffer_contents) - self.buffer_fcc

    def deplete_buffer(self, time):
        if len(self.buffer_contents) == 0:
            self.rebuffer_time += time
            self.total_play_time += time
            return
        if self.buffer_fcc > 0:
            if time + self.buffer_fcc < self.segment_time:
                self.buffer_fcc += time
                self.total_play_time += time
                return
            time -= self.segment_time - self.buffer_fcc
            self.total_play_time += self.segment_time - self.buffer_fcc
            self.buffer_contents.pop(0)
            self.buffer_fcc = 0
        while time > 0 and len(self.buffer_contents) > 0:
            if time >= self.segment_time:
                self.buffer_contents.pop(0)
                self.total_play_time += self.segment_time
                time -= self.segment_time
            else:
                self.buffer_fcc = time
                self.total_play_time += time
                time = 0
        if time > 0:
            self.rebuffer_time += time
            self.total_play_time += time
            self.rebuffer_event_count += 1
            self.rebuffer_starts.append(time)  # instrumentation only (not in Sabre)

    def run(self, abr):
        quality = abr.get_first_quality()
        size = self.segments[0][quality]
        time, latency = self.network.download(size)
        download_time = time - latency
        self.startup_time = download_time
        self.buffer_contents.append(quality)
        self.qualities.append(quality)
        self.total_play_time += time
        next_segment = 1
        while next_segment < len(self.segments):
            full_delay = self.get_buffer_level() + self.segment_time - self.buffer_size
            if full_delay > 0:
                self.deplete_buffer(full_delay)
                self.network.delay(full_delay)
            quality, delay = abr.get_quality_delay(self, next_segment)
            size = self.segments[next_segment][quality]
            if delay > 0:
                self.deplete_buffer(delay)
                self.network.delay(delay)
            time, latency = self.network.download(size)
            self.deplete_buffer(time)
            self.buffer_contents += [quality]
            self.qualities.append(quality)
            next_segment += 1
        # playout_buffer()
        self.deplete_buffer(self.get_buffer_level())
        return self
