"""``ivr replay FILE.wav``: the event timeline of a recording."""
from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("replay", help="event timeline of a recording (speech turns, DTMF keys)",
                              description="Print the speech segments and DTMF keys found in a WAV file.")
    p.add_argument("file", help="WAV file: 8/16/44.1/48 kHz, 16-bit PCM, mu-law or A-law, mono or stereo")
    p.add_argument("--end-silence", type=int, default=700, metavar="MS",
                   help="silence that ends a speech turn, in ms (default 700)")
    p.add_argument("--engine", metavar="ENGINE[:MODEL]",
                   help="also transcribe each speech turn with this engine (whisper, sphinx, vosk; a model may be "
                        "named: whisper:whisper-small) and show the NLU's intent")
    p.add_argument("--lang", default="zh-TW", choices=["zh-TW", "nan-TW"], help="language for --engine")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def transcribe_rows(rows: list[dict], samples, rate: int, engine_name: str, language: str) -> None:
    """Add the transcript, confidence and intent to each speech row, in place."""
    from ivr.asr import load_engine
    from ivr.errors import IvrError
    from ivr.nlu import Nlu
    from ivr.redact import redact

    engine = load_engine(engine_name)
    if not engine.capabilities.free_speech:  # it would hear nothing but silence here
        raise IvrError(f"{engine_name} hears only a dialog step's expected phrases, not free speech; "
                       "use whisper or vosk", "ivr replay --engine")
    rec = engine.recognizer(rate)
    rec.set_expected(None, language)
    nlu = Nlu.load()
    for r in rows:
        if r["type"] != "speech":
            continue
        # a little audio either side: the endpointer's boundaries are tight
        a, b = max(0, int((r["start"] - 0.2) * rate)), int((r["end"] + 0.2) * rate)
        rec.accept(samples[a:b].astype("<i2").tobytes())
        t = rec.finish()
        r["text"] = redact(t.text)
        r["confidence"] = round(t.confidence, 2)
        r["intent"] = nlu.classify(t.text, language).intent if t.text else None


def run(args: argparse.Namespace) -> int:
    # imported here so other subcommands do not pay for numpy/webrtcvad at start-up
    from ivr.audio import analyse_samples, format_timeline, read_wav, timeline_rows

    if args.end_silence < 20:
        print(f"ivr replay: error: --end-silence must be at least 20 ms, not {args.end_silence}", file=sys.stderr)
        return 2
    samples, rate = read_wav(args.file)
    rows = timeline_rows(analyse_samples(samples, rate, args.end_silence))
    if args.engine:
        transcribe_rows(rows, samples, rate, args.engine, args.lang)
    duration = len(samples) / rate
    if args.json:
        print(json.dumps({"file": args.file, "sample_rate": rate, "duration": round(duration, 3),
                          "end_silence_ms": args.end_silence, "events": rows}, ensure_ascii=False, indent=2))
    else:
        print(f"{args.file}: {rate} Hz, {duration:.2f} s, end silence {args.end_silence} ms")
        print(format_timeline(rows) if rows else "  (no speech, no DTMF)")
    return 0
