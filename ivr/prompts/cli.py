"""``ivr say``: hear what a prompt or value will sound like, and prewarm the
TTS cache at deploy time. Wire in with ``ivr/cli/say.py`` doing
``from ivr.prompts.cli import register``."""
from __future__ import annotations

import argparse
import sys
import time

from ivr.frames import LANGUAGES

_KINDS = ("amount", "date", "date-roc", "digits", "phone")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "say", help="synthesize a prompt or value to a WAV; prewarm the TTS cache",
        description="Synthesize TEXT (or a value read aloud by a verbalizer) to a WAV file, "
                    "or prewarm the TTS cache with every text of a prompt catalogue.")
    p.add_argument("text", nargs="?", help="text to say, or the value for --as")
    p.add_argument("--as", dest="kind", choices=_KINDS, help="verbalize TEXT as this kind of value first")
    p.add_argument("-o", "--out", default="say.wav", help="output WAV (default say.wav)")
    p.add_argument("--language", default="zh-TW", choices=LANGUAGES)
    p.add_argument("--rate", type=int, default=8000, help="sample rate (8000 telephone, 16000 wideband)")
    p.add_argument("--engine", default=None, help="kokoro (default), espeak, pyttsx3")
    p.add_argument("--cache-dir", default=None, help="TTS cache (default ~/.cache/ivr/tts or $IVR_TTS_CACHE)")
    p.add_argument("--clips-dir", default=None, help="recorded Taiwanese number clips")
    p.add_argument("--text-only", action="store_true", help="print the verbalized text, do not synthesize")
    p.add_argument("--missing", metavar="LANG", choices=LANGUAGES,
                   help="list the flows' prompts in LANG that have no recording (file:line: flow/step: text) and exit")
    p.add_argument("--flows", default=None,
                   help="flows for --missing (default: ./flows if present, else the shipped flows)")
    p.add_argument("--prewarm", metavar="PROMPTS_YML|FLOWS_DIR",
                   help="synthesize every text in this catalogue, or every static prompt of a flows directory")
    p.set_defaults(func=run)


def _verbalize(kind: str | None, value: str, language: str) -> str:
    from ivr.prompts import (
        verbalize_amount_nan,
        verbalize_amount_zh,
        verbalize_date_zh,
        verbalize_digits_nan,
        verbalize_digits_zh,
        verbalize_phone_zh,
    )

    nan = language == "nan-TW"
    if kind is None:
        return value
    if kind == "amount":
        return verbalize_amount_nan(value) if nan else verbalize_amount_zh(value)
    if kind in ("date", "date-roc"):
        return verbalize_date_zh(value, era="roc" if kind == "date-roc" else "ad")
    if kind == "digits":
        return verbalize_digits_nan(value) if nan else verbalize_digits_zh(value)
    return verbalize_phone_zh(value)


def run(args: argparse.Namespace) -> int:
    from ivr.errors import IvrError
    from ivr.prompts import PromptCatalogue, PromptRenderer
    from ivr.prompts.wavio import write_wav

    if args.missing:
        from ivr.paths import flows_dir
        from ivr.prompts.missing import missing_recordings

        missing = missing_recordings(flows_dir(args.flows), args.missing)
        for m in missing:
            print(m)
        print(f"{len(missing)} {args.missing} prompt(s) without a recording", file=sys.stderr)
        return 0
    # splice=True: a flows folder's prewarm also renders the fixed parts a splicing server uses
    renderer = PromptRenderer(tts=args.engine, cache_dir=args.cache_dir, clips_dir=args.clips_dir, splice=True)
    if args.prewarm:
        from pathlib import Path

        t0 = time.perf_counter()
        if Path(args.prewarm).is_dir():
            from ivr.prompts.prewarm import prewarm_flows

            # static prompts, and the fixed parts of templated ones (spliced at call time)
            n, made = prewarm_flows(renderer, args.prewarm, (args.rate,))
        else:
            texts = PromptCatalogue.load(args.prewarm).texts()
            n, made = len(texts), renderer.prewarm(texts, sample_rates=(args.rate,))
        print(f"{n} texts, {made} synthesized in {time.perf_counter() - t0:.1f} s "
              f"({renderer.tts.name}/{renderer.tts.voice}, {args.rate} Hz) -> {renderer.cache.directory}")
        return 0
    if not args.text:
        raise IvrError("give TEXT to say, or --prewarm PROMPTS_YML", "say")
    text = _verbalize(args.kind, args.text, args.language)
    if args.text_only:
        print(text)
        return 0
    if args.kind == "amount" and args.language == "nan-TW":
        pcm = renderer.render_amount(args.text, args.language, args.rate)
    else:
        pcm = renderer.render_text(text, args.language, args.rate, key="say")
    write_wav(args.out, pcm, args.rate)
    print(f"{text} -> {args.out} ({len(pcm) / args.rate:.2f} s, {args.rate} Hz)", file=sys.stderr)
    return 0
