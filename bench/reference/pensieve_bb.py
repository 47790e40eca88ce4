"""A plain transliteration of Pensieve's simulator and buffer-based baseline.

Python 3 port of hongzimao/pensieve test/fixed_env.py (``Environment.get_video_chunk``)
and test/bb.py (the BB decision loop and reward), kept line for line, numpy scalar
calls included, so that it runs at the speed and with the arithmetic of the original.
It is the independent reference our ``--mode pensieve --abr bba`` is checked and
benchmarked against; it shares no code with abrlab.
"""

import numpy as np

MILLISECONDS_IN_SECOND = 1000.0
B_IN_MB = 1000000.0
BITS_IN_BYTE = 8.0
VIDEO_CHUNCK_LEN = 4000.0
BITRATE_LEVELS = 6
TOTAL_VIDEO_CHUNCK = 48
BUFFER_THRESH = 60.0 * MILLISECONDS_IN_SECOND
DRAIN_BUFFER_SLEEP_TIME = 500.0
PACKET_PAYLOAD_PORTION = 0.95
LINK_RTT = 80

VIDEO_BIT_RATE = [300, 750, 1200, 1850, 2850, 4300]
M_IN_K = 1000.0
REBUF_PENALTY = 4.3
SMOOTH_PENALTY = 1
DEFAULT_QUALITY = 1
RESEVOIR = 5
CUSHION = 10
A_DIM = 6


class Environment:
    def __init__(self, all_cooked_time, all_cooked_bw, video_size):
        self.all_cooked_time = all_cooked_time
        self.all_cooked_bw = all_cooked_bw
        self.video_chunk_counter = 0
        self.buffer_size = 0
        self.trace_idx = 0
        self.cooked_time = self.all_cooked_time[self.trace_idx]
        self.cooked_bw = self.all_cooked_bw[self.trace_idx]
        self.mahimahi_start_ptr = 1
        self.mahimahi_ptr = 1
        self.last_mahimahi_time = self.cooked_time[self.mahimahi_ptr - 1]
        self.video_size = video_size  # {quality: [bytes per chunk]}

    def get_video_chunk(self, quality):
        video_chunk_size = self.video_size[quality][self.video_chunk_counter]
        delay = 0.0
        video_chunk_counter_sent = 0
        while True:
            throughput = self.cooked_bw[self.mahimahi_ptr] * B_IN_MB / BITS_IN_BYTE
            duration = self.cooked_time[self.mahimahi_ptr] - self.last_mahimahi_time
            packet_payload = throughput * duration * PACKET_PAYLOAD_PORTION
            if video_chunk_counter_sent + packet_payload > video_chunk_size:
                fractional_time = (video_chunk_size - video_chunk_counter_sent) / throughput / PACKET_PAYLOAD_PORTION
                delay += fractional_time
                self.last_mahimahi_time += fractional_time
                break
            video_chunk_counter_sent += packet_payload
            delay += duration
            self.last_mahimahi_time = self.cooked_time[self.mahimahi_ptr]
            self.mahimahi_ptr += 1
            if self.mahimahi_ptr >= len(self.cooked_bw):
                self.mahimahi_ptr = 1
                self.last_mahimahi_time = 0
        delay *= MILLISECONDS_IN_SECOND
        delay += LINK_RTT
        rebuf = np.maximum(delay - self.buffer_size, 0.0)
        self.buffer_size = np.maximum(self.buffer_size - delay, 0.0)
        self.buffer_size += VIDEO_CHUNCK_LEN
        sleep_time = 0
        if self.buffer_size > BUFFER_THRESH:
            drain_buffer_time = self.buffer_size - BUFFER_THRESH
            sleep_time = np.ceil(drain_buffer_time / DRAIN_BUFFER_SLEEP_TIME) * DRAIN_BUFFER_SLEEP_TIME
            self.buffer_size -= sleep_time
            while True:
                duration = self.cooked_time[self.mahimahi_ptr] - self.last_mahimahi_time
                if duration > sleep_time / MILLISECONDS_IN_SECOND:
                    self.last_mahimahi_time += sleep_time / MILLISECONDS_IN_SECOND
                    break
                sleep_time -= duration * MILLISECONDS_IN_SECOND
                self.last_mahimahi_time = self.cooked_time[self.mahimahi_ptr]
                self.mahimahi_ptr += 1
                if self.mahimahi_ptr >= len(self.cooked_bw):
                    self.mahimahi_ptr = 1
                    self.last_mahimahi_time = 0
        return_buffer_size = self.buffer_size
        self.video_chunk_counter += 1
        video_chunk_remain = TOTAL_VIDEO_CHUNCK - self.video_chunk_counter
        end_of_video = False
        if self.video_chunk_counter >= TOTAL_VIDEO_CHUNCK:
            end_of_video = True
            self.buffer_size = 0
            self.video_chunk_counter = 0
            self.trace_idx += 1
            if self.trace_idx >= len(self.all_cooked_time):
                self.trace_idx = 0
            self.cooked_time = self.all_cooked_time[self.trace_idx]
            self.cooked_bw = self.all_cooked_bw[self.trace_idx]
            self.mahimahi_ptr = self.mahimahi_start_ptr
            self.last_mahimahi_time = self.cooked_time[self.mahimahi_ptr - 1]
        next_video_chunk_sizes = []
        for i in range(BITRATE_LEVELS):
            next_video_chunk_sizes.append(self.video_size[i][self.video_chunk_counter])
        return (delay, sleep_time, return_buffer_size / MILLISECONDS_IN_SECOND,
                rebuf / MILLISECONDS_IN_SECOND, video_chunk_size, next_video_chunk_sizes,
                end_of_video, video_chunk_remain)


def run_bb(all_cooked_time, all_cooked_bw, video_size):
    """bb.py's main loop over every trace once; returns one list of per-chunk rewards
    and one list of chosen bit rates per trace (in trace order)."""
    net_env = Environment(all_cooked_time, all_cooked_bw, video_size)
    last_bit_rate = DEFAULT_QUALITY
    bit_rate = DEFAULT_QUALITY
    rewards, rates = [], []
    r_batch, b_batch = [], []
    video_count = 0
    while True:
        delay, sleep_time, buffer_size, rebuf, video_chunk_size, next_video_chunk_sizes, \
            end_of_video, video_chunk_remain = net_env.get_video_chunk(bit_rate)
        reward = VIDEO_BIT_RATE[bit_rate] / M_IN_K \
            - REBUF_PENALTY * rebuf \
            - SMOOTH_PENALTY * np.abs(VIDEO_BIT_RATE[bit_rate] - VIDEO_BIT_RATE[last_bit_rate]) / M_IN_K
        r_batch.append(float(reward))
        b_batch.append(VIDEO_BIT_RATE[bit_rate])
        last_bit_rate = bit_rate
        if buffer_size < RESEVOIR:
            bit_rate = 0
        elif buffer_size >= RESEVOIR + CUSHION:
            bit_rate = A_DIM - 1
        else:
            bit_rate = (A_DIM - 1) * (buffer_size - RESEVOIR) / float(CUSHION)
        bit_rate = int(bit_rate)
        if end_of_video:
            last_bit_rate = DEFAULT_QUALITY
            bit_rate = DEFAULT_QUALITY
            rewards.append(r_batch)
            rates.append(b_batch)
            r_batch, b_batch = [], []
            video_count += 1
            if video_count >= len(all_cooked_time):
                break
    return rewards, rates


def reported_qoe(rewards):
    """What Pensieve's plot_results.py reports per trace: the sum over chunks 2..48."""
    return float(np.sum(rewards[1:TOTAL_VIDEO_CHUNCK]))
