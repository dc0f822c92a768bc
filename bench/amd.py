"""Answering-machine detection (ivr/outbound/amd.py) on recordings of both kinds.

People: the real short answers in ../shared/data (every clip of at most 2 s:
Taiwanese and Mandarin), as a person picks up and then waits, clean and with
line noise added (20 dB SNR). Machines: voicemail greetings synthesized by the
TTS engines (espeak-ng, Kokoro), clean and noisy. Reports accuracy per kind,
the decision time after pickup, and every miss.

    python bench/amd.py [--engines espeak,kokoro]

Prints a table and writes bench/results/amd.json."""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ivr.audio import read_wav, resample
from ivr.outbound.amd import AmdConfig, detect

RATE = 8000
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GREETINGS = [
    "您好，您撥的電話目前無人接聽，請在嗶聲後留言。",
    "我現在不方便接聽，請留言，謝謝。",
    "你好，我是王小明，現在不在，有事請留言。",
    "您所撥的號碼沒有回應，請稍後再撥。",
    "這裡是陳美玲的手機，請在嗶一聲後留下您的姓名和電話。",
    "您好，我正在開會，稍後回電給您。",
    "您撥的電話未開機，請稍後再撥。",
    "嗨，我是阿明，有事請留言，我會盡快回覆。",
    "您好，這裡是林家，我們現在不在家，請留言。",
    "您的電話將轉接到語音信箱，請在嗶聲後開始錄音。",
]
SHORT_SYNTH = ["喂？", "喂，你好。", "哪位？"]


def with_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    p = float(np.mean(x.astype(np.float64) ** 2)) or 1.0
    noise = rng.normal(0, np.sqrt(p / 10 ** (snr_db / 10)), len(x))
    return np.clip(x + noise, -32768, 32767).astype(np.int16)


def pickup(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros(RATE * 3 // 10, dtype=np.int16), x.astype(np.int16)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="espeak,kokoro")
    ap.add_argument("--max-human-s", type=float, default=2.0, help="real clips at most this long count as answers")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "amd.json")
    a = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"needs the real recordings in {DATA}", file=sys.stderr)
        return 2
    from ivr.prompts import load_tts

    rng = np.random.default_rng(17)
    cases: list[tuple[str, str, str, np.ndarray]] = []   # (kind, source, name, audio from pickup)
    for wav in sorted(DATA.glob("*/*.wav")):
        x, sr = read_wav(wav)
        if len(x) / sr <= a.max_human_s:
            y = pickup(resample(x, sr, RATE))
            name = f"{wav.parent.name}/{wav.name}"
            cases += [("human", "real", name, y), ("human", "real+noise", name, with_noise(y, 20, rng))]
    synth_seconds = {}
    for engine in [e for e in a.engines.split(",") if e]:
        try:
            tts = load_tts(engine)
            t0 = time.perf_counter()
            for i, text in enumerate(GREETINGS):
                x, sr = tts.synthesize(text)
                y = pickup(resample(np.asarray(x, dtype=np.int16), sr, RATE))
                cases += [("machine", engine, f"greeting{i}", y),
                          ("machine", f"{engine}+noise", f"greeting{i}", with_noise(y, 20, rng))]
            for i, text in enumerate(SHORT_SYNTH):
                x, sr = tts.synthesize(text)
                cases.append(("human", f"{engine}-synth", f"hello{i}", pickup(resample(np.asarray(x, dtype=np.int16),
                                                                                         sr, RATE))))
            synth_seconds[engine] = round(time.perf_counter() - t0, 2)
        except Exception as e:
            print(f"skipping {engine}: {str(e).splitlines()[0]}", file=sys.stderr)
    config = AmdConfig()
    rows, cpu = [], 0.0
    for kind, source, name, y in cases:
        t0 = time.perf_counter()
        r = detect(y, RATE, config)
        cpu += time.perf_counter() - t0
        called = "machine" if r.verdict == "machine" else "human"  # silence: connected as a person
        rows.append({"kind": kind, "source": source, "name": name, "verdict": r.verdict, "ok": called == kind,
                     "decided_at": r.decided_at, "speech": r.speech, "why": r.why})
    out: dict = {"machine": platform.machine(), "python": platform.python_version(), "config": config.__dict__,
                 "tts_seconds": synth_seconds, "cases": len(rows), "by_source": {}}
    print(f"{'kind':8} {'source':16} {'n':>3} {'correct':>8} {'decided (mean s)':>17}")
    for kind in ("human", "machine"):
        for source in sorted({r["source"] for r in rows if r["kind"] == kind}):
            sel = [r for r in rows if r["kind"] == kind and r["source"] == source]
            ok = sum(r["ok"] for r in sel)
            mean = sum(r["decided_at"] for r in sel) / len(sel)
            out["by_source"][f"{kind}/{source}"] = {"n": len(sel), "correct": ok, "mean_decision_s": round(mean, 3)}
            print(f"{kind:8} {source:16} {len(sel):3d} {ok:5d}/{len(sel):<3d} {mean:17.2f}")
    for kind in ("human", "machine"):
        sel = [r for r in rows if r["kind"] == kind]
        out[f"{kind}_accuracy"] = round(sum(r["ok"] for r in sel) / len(sel), 3) if sel else None
    real = [r for r in rows if r["kind"] == "human" and r["source"].startswith("real")]
    out["real_human_accuracy"] = round(sum(r["ok"] for r in real) / len(real), 3) if real else None
    out["accuracy"] = round(sum(r["ok"] for r in rows) / len(rows), 3)
    out["cpu_ms_per_call"] = round(1000 * cpu / len(rows), 2)
    out["misses"] = [r for r in rows if not r["ok"]]
    print(f"accuracy {out['accuracy']:.3f} (people {out['human_accuracy']}, real people {out['real_human_accuracy']}, "
          f"machines {out['machine_accuracy']}); {out['cpu_ms_per_call']} ms CPU per call")
    for m in out["misses"]:
        print(f"  miss: {m['kind']} {m['source']} {m['name']}: {m['verdict']} ({m['why']})")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
