"""Throughput of the per-call audio front end on one core.

For each 20 ms frame of an 8 kHz telephone call: G.711 mu-law decode, DTMF
detection, VAD endpointing, and resampling to 16 kHz for the recognizer.
Prints frames/s and how many concurrent calls that keeps up with in real
time (50 frames/s per call); writes bench/results/audio_pipeline.json.

    python bench/audio_pipeline.py [--seconds 60]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.audio import (  # noqa: E402
    DtmfDetector,
    Endpointer,
    Resampler,
    dtmf_tones,
    frames,
    read_wav,
    resample,
    ulaw_decode,
    ulaw_encode,
)

SHARED = Path(os.environ.get("IVR_SHARED", ROOT.parent / "shared"))


def call_audio(seconds: float) -> tuple[np.ndarray, str]:
    """Real speech with key presses and pauses, looped to ``seconds`` at 8 kHz."""
    parts, source = [], "synthetic"
    real = sorted((SHARED / "data" / "mandarin-real").glob("*.wav"))
    if real:
        source = "mandarin-real"
        for p in real:
            x, r = read_wav(p)
            parts += [resample(x, r, 8000), np.zeros(4000, np.int16), dtmf_tones("1234#", 8000, -15)]
    else:
        rng = np.random.default_rng(0)
        parts = [rng.normal(0, 2000, 8000 * 3).astype(np.int16), np.zeros(4000, np.int16),
                 dtmf_tones("1234#", 8000, -15)]
    one = np.concatenate(parts)
    reps = int(np.ceil(seconds * 8000 / len(one)))
    return np.tile(one, reps)[: int(seconds * 8000)], source


def run(ulaw_frames: list[bytes]) -> tuple[float, dict[str, float], int, int]:
    ep, det, rs = Endpointer(8000, 700), DtmfDetector(8000), Resampler(8000, 16000)
    stage = {"g711": 0.0, "dtmf": 0.0, "vad": 0.0, "resample": 0.0}
    # CPU time of this process: the machine is shared, and wall time would
    # charge us for other processes' turns on the core
    clock = time.process_time
    n_speech = n_digits = 0
    from ivr.frames import AudioFrame

    t_start = clock()
    for i, payload in enumerate(ulaw_frames):
        t0 = clock()
        pcm = ulaw_decode(payload)
        frame = AudioFrame(pcm.tobytes(), 8000, i * 0.02)
        t1 = clock()
        n_digits += len(det.process(frame))
        t2 = clock()
        n_speech += len(ep.process(frame))
        t3 = clock()
        rs.process(pcm)
        t4 = clock()
        stage["g711"] += t1 - t0
        stage["dtmf"] += t2 - t1
        stage["vad"] += t3 - t2
        stage["resample"] += t4 - t3
    total = clock() - t_start
    return total, stage, n_speech, n_digits


def run_plain(ulaw_frames: list[bytes]) -> tuple[float, float]:
    """The same work without per-stage timers: (CPU seconds, wall seconds)."""
    from ivr.frames import AudioFrame
    ep, det, rs = Endpointer(8000, 700), DtmfDetector(8000), Resampler(8000, 16000)
    c0, w0 = time.process_time(), time.perf_counter()
    for i, payload in enumerate(ulaw_frames):
        pcm = ulaw_decode(payload)
        frame = AudioFrame(pcm.tobytes(), 8000, i * 0.02)
        det.process(frame)
        ep.process(frame)
        rs.process(pcm)
    return time.process_time() - c0, time.perf_counter() - w0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="seconds of call audio to push through")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "audio_pipeline.json"))
    args = ap.parse_args()

    x, source = call_audio(args.seconds)
    payloads = [ulaw_encode(f.array()) for f in frames(x, 8000)]
    run(payloads[:200])  # warm up caches and lazy tables
    best = None
    for _ in range(3):  # best of 3: the machine is shared
        res = run(payloads)
        if best is None or res[0] < best[0]:
            best = res
    _, stage, n_speech, n_digits = best
    total, wall = min(run_plain(payloads) for _ in range(3))
    n = len(payloads)
    fps = n / total
    result = {
        "bench": "audio_pipeline",
        "pipeline": "mu-law decode + DTMF (Goertzel/Q.24) + VAD endpointer (webrtcvad) + resample 8->16 kHz",
        "audio": source,
        "frames": n,
        "frame_ms": 20,
        "seconds_of_audio": round(n * 0.02, 2),
        "cpu_seconds": round(total, 4),
        "wall_seconds": round(wall, 4),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "frames_per_second": round(fps, 1),
        "realtime_calls_one_core": int(fps // 50),
        "goal_calls": 200,
        "us_per_frame": {k: round(v / n * 1e6, 2) for k, v in stage.items()},
        "events": {"speech_events": n_speech, "dtmf_digits": n_digits},
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu_count": os.cpu_count(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"audio pipeline ({source}): {n} frames of 20 ms in {total:.3f} CPU s on one core "
          f"({wall:.3f} s wall, load average {os.getloadavg()[0]:.1f})")
    print(f"  {fps:,.0f} frames/s  ->  {fps / 50:,.0f} concurrent 8 kHz calls in real time (goal >= 200)")
    print("  per frame (CPU): " + ", ".join(f"{k} {v / n * 1e6:.1f} us" for k, v in stage.items()))
    print(f"  wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
