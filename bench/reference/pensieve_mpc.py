"""A plain transliteration of Pensieve's RobustMPC baseline.

Python 3 port of hongzimao/pensieve test/mpc.py (the decision loop, its module-level
``past_errors`` / ``past_bandwidth_ests`` lists and ``get_chunk_size``), driven by the
same test/fixed_env.py ``Environment`` that bench/reference/pensieve_bb.py ports. Kept
line for line, numpy state array included, so it has the arithmetic, the quirks and the
speed of the original:

- the error history lives in module globals, so it carries over from one trace to the
  next (here: in a ``MpcState`` object that lives for one ``run_mpc`` call, which covers
  every trace in the order given, as one run of mpc.py does);
- ``get_chunk_size(quality, last_index + position + 1)`` reads the sizes one index ahead
  of the chunk actually fetched next (index > 48 gives 0);
- ``if reward >= max_reward`` keeps the *last* of equally good sequences.

mpc.py's hard-coded ``size_video1..6`` lists are Envivio's chunk sizes (the same numbers
as ../shared/content/envivio.json); callers pass them in as ``video_size``.
It shares no code with abrlab.
"""

import itertools

import numpy as np

from bench.reference.pensieve_bb import Environment

S_INFO = 5
S_LEN = 8
A_DIM = 6
MPC_FUTURE_CHUNK_COUNT = 5
VIDEO_BIT_RATE = [300, 750, 1200, 1850, 2850, 4300]  # Kbps
BUFFER_NORM_FACTOR = 10.0
CHUNK_TIL_VIDEO_END_CAP = 48.0
TOTAL_VIDEO_CHUNKS = 48
M_IN_K = 1000.0
REBUF_PENALTY = 4.3
SMOOTH_PENALTY = 1
DEFAULT_QUALITY = 1

CHUNK_COMBO_OPTIONS = list(itertools.product([0, 1, 2, 3, 4, 5], repeat=5))


class MpcState:
    """mpc.py's module globals ``past_errors`` and ``past_bandwidth_ests``."""

    def __init__(self):
        self.past_errors = []
        self.past_bandwidth_ests = []


def run_mpc(all_cooked_time, all_cooked_bw, video_size, state=None):
    """mpc.py's main loop over every trace once, in the order given. Returns per trace
    the list of per-chunk rewards and the list of chosen bit rates (kbps)."""
    past = state or MpcState()
    past_errors = past.past_errors
    past_bandwidth_ests = past.past_bandwidth_ests

    def get_chunk_size(quality, index):
        if index < 0 or index > 48:
            return 0
        # mpc.py builds this six-entry dict on every call (38,880 calls per decision);
        # kept so that the transliteration costs what the original costs
        sizes = {5: video_size[5][index], 4: video_size[4][index], 3: video_size[3][index],
                 2: video_size[2][index], 1: video_size[1][index], 0: video_size[0][index]}
        return sizes[quality]

    net_env = Environment(all_cooked_time, all_cooked_bw, video_size)
    last_bit_rate = DEFAULT_QUALITY
    bit_rate = DEFAULT_QUALITY
    s_batch = [np.zeros((S_INFO, S_LEN))]
    r_batch, b_batch = [], []
    rewards, rates = [], []
    video_count = 0
    while True:
        delay, sleep_time, buffer_size, rebuf, video_chunk_size, _next_sizes, \
            end_of_video, video_chunk_remain = net_env.get_video_chunk(bit_rate)
        reward = VIDEO_BIT_RATE[bit_rate] / M_IN_K \
            - REBUF_PENALTY * rebuf \
            - SMOOTH_PENALTY * np.abs(VIDEO_BIT_RATE[bit_rate] - VIDEO_BIT_RATE[last_bit_rate]) / M_IN_K
        r_batch.append(float(reward))
        b_batch.append(VIDEO_BIT_RATE[bit_rate])
        last_bit_rate = bit_rate

        if len(s_batch) == 0:
            state = [np.zeros((S_INFO, S_LEN))]
        else:
            state = np.array(s_batch[-1], copy=True)
        state = np.roll(state, -1, axis=1)
        state[0, -1] = VIDEO_BIT_RATE[bit_rate] / float(np.max(VIDEO_BIT_RATE))
        state[1, -1] = buffer_size / BUFFER_NORM_FACTOR
        state[2, -1] = rebuf
        state[3, -1] = float(video_chunk_size) / float(delay) / M_IN_K  # kilo byte / ms
        state[4, -1] = np.minimum(video_chunk_remain, CHUNK_TIL_VIDEO_END_CAP) / float(CHUNK_TIL_VIDEO_END_CAP)

        # ================== MPC =========================
        curr_error = 0
        if len(past_bandwidth_ests) > 0:
            curr_error = abs(past_bandwidth_ests[-1] - state[3, -1]) / float(state[3, -1])
        past_errors.append(curr_error)

        past_bandwidths = state[3, -5:]
        while past_bandwidths[0] == 0.0:
            past_bandwidths = past_bandwidths[1:]
        bandwidth_sum = 0
        for past_val in past_bandwidths:
            bandwidth_sum += (1 / float(past_val))
        harmonic_bandwidth = 1.0 / (bandwidth_sum / len(past_bandwidths))

        max_error = 0
        error_pos = -5
        if len(past_errors) < 5:
            error_pos = -len(past_errors)
        max_error = float(max(past_errors[error_pos:]))
        future_bandwidth = harmonic_bandwidth / (1 + max_error)  # robustMPC here
        past_bandwidth_ests.append(harmonic_bandwidth)

        last_index = int(CHUNK_TIL_VIDEO_END_CAP - video_chunk_remain)
        future_chunk_length = MPC_FUTURE_CHUNK_COUNT
        if TOTAL_VIDEO_CHUNKS - last_index < 5:
            future_chunk_length = TOTAL_VIDEO_CHUNKS - last_index

        max_reward = -100000000
        best_combo = ()
        send_data = 0
        start_buffer = buffer_size
        for full_combo in CHUNK_COMBO_OPTIONS:
            combo = full_combo[0:future_chunk_length]
            curr_rebuffer_time = 0
            curr_buffer = start_buffer
            bitrate_sum = 0
            smoothness_diffs = 0
            last_quality = int(bit_rate)
            for position in range(0, len(combo)):
                chunk_quality = combo[position]
                index = last_index + position + 1
                download_time = (get_chunk_size(chunk_quality, index) / 1000000.) / future_bandwidth
                if curr_buffer < download_time:
                    curr_rebuffer_time += (download_time - curr_buffer)
                    curr_buffer = 0
                else:
                    curr_buffer -= download_time
                curr_buffer += 4
                bitrate_sum += VIDEO_BIT_RATE[chunk_quality]
                smoothness_diffs += abs(VIDEO_BIT_RATE[chunk_quality] - VIDEO_BIT_RATE[last_quality])
                last_quality = chunk_quality
            reward = (bitrate_sum / 1000.) - (REBUF_PENALTY * curr_rebuffer_time) - (smoothness_diffs / 1000.)
            if reward >= max_reward:
                if (best_combo != ()) and best_combo[0] < combo[0]:
                    best_combo = combo
                else:
                    best_combo = combo
                max_reward = reward
                send_data = 0
                if best_combo != ():
                    send_data = best_combo[0]
        bit_rate = send_data
        # ================================================

        s_batch.append(state)
        if end_of_video:
            last_bit_rate = DEFAULT_QUALITY
            bit_rate = DEFAULT_QUALITY
            del s_batch[:]
            s_batch.append(np.zeros((S_INFO, S_LEN)))
            rewards.append(r_batch)
            rates.append(b_batch)
            r_batch, b_batch = [], []
            video_count += 1
            if video_count >= len(all_cooked_time):
                break
    return rewards, rates
