"""Speech recognition benchmark: for every installed model, character error
rate on ../shared/data/mandarin-real (ivr.asr.scoring: its normalisation is
stated there), reported as edits / reference characters over N clips with the
errors of every clip, and which clip dominates when one does; closed-set
phrase accuracy on the 33 real Taiwanese recordings (their own 33 sentences as
the grammar), real-time factor, load time and peak RSS; and for Whisper, end
of speech -> final transcript, raw (including the endpointer's trailing
silence) and after the endpoint, with and without speculative decoding.

Each model runs in its own child process so peak RSS is its own.

    python bench/asr.py            # all installed models -> bench/results/asr.json
    python bench/asr.py --only whisper-base --no-latency
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IVR_SHARED", ROOT.parent / "shared")).resolve()
OUT = ROOT / "bench" / "results" / "asr.json"
FRAME_MS = 20
TRAILING_SILENCE_MS = 600  # a typical endpointer end-of-turn silence


def _feed(rec, x: np.ndarray, rate: int, pace: bool = False) -> None:
    step = rate * FRAME_MS // 1000
    t0 = time.perf_counter()
    for k, i in enumerate(range(0, x.size, step)):
        if pace:  # real time, so background work can overlap the caller's speech
            delay = t0 + k * FRAME_MS / 1000 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        rec.accept(x[i:i + step].astype("<i2").tobytes())


def _mandarin():
    d = SHARED / "data" / "mandarin-real"
    rows = [ln.split("\t") for ln in (d / "transcripts.tsv").read_text(encoding="utf-8").splitlines() if ln]
    return [(d / f, ref) for f, ref in rows]


def _taiwanese():
    d = SHARED / "data" / "taiwanese-real"
    rows = [ln.split(None, 1) for ln in (d / "transcripts.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    return [(d / f"{i}.wav", s.strip()) for i, s in rows]


def bench_model(name: str, latency: bool) -> dict:
    from ivr.asr import char_errors, load_engine
    from ivr.audio.wav import read_wav
    from ivr.registry import Registry

    m = Registry().manifest(name)
    t0 = time.perf_counter()
    engine = load_engine(m.engine, model=name)
    out: dict = {"model": name, "engine": m.engine, "load_seconds": round(time.perf_counter() - t0, 3)}
    grammar_only = m.engine == "sphinx"
    speaks_mandarin = "zh-TW" in m.language

    if speaks_mandarin:
        rec = engine.recognizer(16000)
        rows = _mandarin()
        if grammar_only:  # sphinx cannot do free speech: closed set of the six references
            rec.set_expected([ref for _, ref in rows])
        errs = total = 0
        audio_s = decode_s = 0.0
        per_file = []
        for path, ref in rows:
            x, rate = read_wav(path)
            rec = rec if rate == rec.sample_rate else engine.recognizer(rate)
            t = time.perf_counter()
            _feed(rec, x, rate)
            tr = rec.finish()
            decode_s += time.perf_counter() - t
            audio_s += x.size / rate
            e, n = char_errors(ref, tr.text)
            errs, total = errs + e, total + n
            per_file.append({"file": path.name, "ref": ref, "hyp": tr.text, "errors": e, "chars": n})
        out["mandarin_cer"] = round(errs / total, 4)
        out["mandarin_cer_counts"] = cer_counts(per_file)
        if grammar_only:
            out["mandarin_closed_set"] = f"{sum(f['errors'] == 0 for f in per_file)}/{len(per_file)}"
        out["mandarin_cer_mode"] = "closed set of the 6 references" if grammar_only else "free speech"
        out["mandarin_rtf"] = round(decode_s / audio_s, 4)
        out["mandarin_files"] = per_file
    else:
        out["mandarin_cer"] = None
        out["mandarin_cer_note"] = f"model language {','.join(m.language)}"

    if grammar_only:
        rows = _taiwanese()
        rec = engine.recognizer(16000)
        rec.set_expected([s for _, s in rows], language="nan-TW")
        right = 0
        audio_s = decode_s = 0.0
        for path, ref in rows:
            x, rate = read_wav(path)
            t = time.perf_counter()
            _feed(rec, x, rate)
            right += rec.finish().text == ref
            decode_s += time.perf_counter() - t
            audio_s += x.size / rate
        out["taiwanese_closed_set"] = f"{right}/{len(rows)}"
        out["taiwanese_correct"] = right
        out["taiwanese_rtf"] = round(decode_s / audio_s, 4)
    else:
        out["taiwanese_closed_set"] = None
        out["taiwanese_note"] = "needs a grammar engine (transcripts are Tâi-lô)"

    if getattr(engine, "cpu_isa", None) is not None or m.engine == "whisper":
        out["cpu_isa"] = getattr(engine, "cpu_isa", None) or "default (not pinned)"
    if latency and m.engine == "whisper":
        out["latency"] = whisper_latency(engine)

    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def cer_counts(per_file: list[dict]) -> dict:
    """Edits / characters over the clips, and the clip holding most of the edits when one holds more than half."""
    errs, chars = sum(f["errors"] for f in per_file), sum(f["chars"] for f in per_file)
    out: dict = {"clips": len(per_file), "errors": errs, "chars": chars,
                 "cer": round(errs / chars, 4) if chars else None, "dominant_clip": None}
    worst = max(per_file, key=lambda f: f["errors"], default=None)
    if worst is not None and errs and worst["errors"] * 2 > errs:
        rest_e, rest_c = errs - worst["errors"], chars - worst["chars"]
        out["dominant_clip"] = {
            "file": worst["file"], "errors": worst["errors"], "chars": worst["chars"],
            "cer_without_it": round(rest_e / rest_c, 4) if rest_c else None,
            "note": f"{worst['errors']} of the {errs} errors are in one clip ({worst['file']}, {worst['chars']} of "
                    f"{chars} characters); the other {len(per_file) - 1} clips: {rest_e}/{rest_c}"}
    return out


def whisper_latency(engine) -> dict:
    """Feed each recording in real time followed by the endpointer's trailing
    silence. Raw = end of speech -> final transcript, i.e. the trailing silence
    the endpointer waits for plus the time ``finish`` takes after it; after
    the endpoint = ``finish`` alone. A component figure: the reply-latency goals
    (issue 14) are for end of speech -> first reply audio, in bench/calls.py."""
    from ivr.audio.wav import read_wav

    res = {}
    for spec in (False, True):
        lat, hits = [], 0
        for path, _ in _mandarin():
            x, rate = read_wav(path)
            audio = np.concatenate([x, np.zeros(rate * TRAILING_SILENCE_MS // 1000, dtype=np.int16)])
            rec = engine.recognizer(rate, speculative=spec)
            _feed(rec, audio, rate, pace=True)
            t = time.perf_counter()
            rec.finish()
            lat.append(time.perf_counter() - t)
            hits += getattr(rec, "speculative_hits", 0)
            rec.close()
        raw = [v + TRAILING_SILENCE_MS / 1000 for v in lat]
        res["speculative" if spec else "plain"] = {
            "raw_end_of_speech_to_final_mean_seconds": round(float(np.mean(raw)), 3),
            "raw_end_of_speech_to_final_max_seconds": round(float(np.max(raw)), 3),
            "mean_finish_seconds": round(float(np.mean(lat)), 3),
            "max_finish_seconds": round(float(np.max(lat)), 3),
            "per_file": [round(v, 3) for v in lat],
            "answered_from_background_decode": hits,
        }
    res["trailing_silence_ms"] = TRAILING_SILENCE_MS
    res["note"] = ("raw = trailing silence + finish; mean_/max_finish_seconds = after the endpoint. "
                   "No goal for this component: the reply goals are in bench/calls.py")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="one model name")
    ap.add_argument("--no-latency", action="store_true", help="skip the real-time Whisper latency run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(bench_model(args.child, not args.no_latency), ensure_ascii=False))
        return 0
    from ivr.registry import Registry

    if not SHARED.is_dir():
        print(f"needs {SHARED} (real recordings)", file=sys.stderr)
        return 2
    reg = Registry()
    load_at_start = round(os.getloadavg()[0], 2)
    names = [args.only] if args.only else [m.name for m in reg.manifests() if reg.status(m.name).state == "ok"]
    results = []
    for name in names:
        cmd = [sys.executable, __file__, "--child", name] + (["--no-latency"] if args.no_latency else [])
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            print(f"{name}: failed: {p.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        results.append(r)
        summary = {k: r.get(k) for k in ("load_seconds", "mandarin_cer", "mandarin_closed_set", "mandarin_rtf",
                                         "taiwanese_closed_set",
                                         "taiwanese_rtf", "peak_rss_mb")}
        print(name, json.dumps(summary, ensure_ascii=False))
        counts = r.get("mandarin_cer_counts")
        if counts:
            print(f"  Mandarin CER {counts['cer']:.1%} = {counts['errors']} errors / {counts['chars']} characters "
                  f"over {counts['clips']} clips (goal: none set); per clip "
                  + ", ".join(f"{f['file']} {f['errors']}/{f['chars']}" for f in r["mandarin_files"]))
            if counts["dominant_clip"]:
                print(f"  one clip dominates: {counts['dominant_clip']['note']}")
        if "latency" in r:
            lat = r["latency"]
            print(f"  whisper end of speech -> final, raw (incl. {TRAILING_SILENCE_MS} ms trailing silence): plain "
                  f"{lat['plain']['raw_end_of_speech_to_final_mean_seconds']} s, speculative "
                  f"{lat['speculative']['raw_end_of_speech_to_final_mean_seconds']} s (mean)")
            print(f"  after the endpoint: plain {lat['plain']['mean_finish_seconds']} s, speculative "
                  f"{lat['speculative']['mean_finish_seconds']} s (mean)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # other work on the machine inflates RTF and latency: record how busy it was
    doc = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
           "loadavg_1min_at_start": load_at_start, "loadavg_1min_at_end": round(os.getloadavg()[0], 2),
           "cer_normalisation": "ivr.asr.scoring (NFKC; numbers as Han numerals; punctuation and spaces dropped; "
                                "Traditional->Simplified and spelling variants folded); CER = edits / reference "
                                "characters summed over the clips",
           "goals": {"mandarin_cer": None, "note": "no CER or RTF goal is set in the issues; latency goals are "
                                                   "for the whole reply (bench/calls.py)"},
           "models": results}
    if args.only and OUT.is_file():  # keep the other models' last results
        old = json.loads(OUT.read_text(encoding="utf-8"))
        doc["models"] = [r for r in old.get("models", []) if r["model"] != args.only] + results
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
