"""Audio condition of bench/understanding.py (``--audio N``), also runnable alone:

    python bench/understanding_audio.py [--n 112] [--kinds digits,date] [--conditions clean,telephone]
                                        [--show] [--out FILE] [--update]

N test utterances (round robin over the kinds of step) synthesized in several
voices and speeds, then heard through

    clean      16 kHz, as synthesized
    telephone  8 kHz band-limit + G.711 mu-law round trip
    noisy_20 / noisy_10 / noisy_5   telephone plus pink noise at that SNR (dB)
    loss_5     telephone with 5 % of its 20 ms RTP packets lost at random, each filled with
               silence as the SIP receive path does (--conceal repeat: bench/plc.py instead)

and recognised by the Whisper engine with the step's hints, as a call would.
The transcript is judged exactly like the reference text. Synthesized audio is
cached under ``ivr.paths.cache_home()/bench-audio`` (never in the repo), so a
rerun only decodes. Synthetic voices are not callers: treat these figures as a
floor-and-trend check, not the product's real-caller rate.
Goals (issue 11): clean >= 95 %, telephone >= 92 %, 10 dB >= 80 %."""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio_fixtures"))

import yaml
from make_fixtures import Synth, add_noise
from understanding_set import MENU, PATTERNS, Item, han_digits, round_robin

from ivr.audio import read_wav, resample, ulaw_decode, ulaw_encode, write_wav
from ivr.nlu import Nlu
from ivr.paths import cache_home

GOALS = {"clean": 0.95, "telephone": 0.92, "noisy_10": 0.80}
CONDITIONS = ("clean", "telephone", "noisy_20", "noisy_10", "noisy_5", "loss_5")
# (TTS engine, speaking rate): voices and speeds, used in turn
VOICES = (("kokoro", 1.0), ("kokoro", 0.85), ("kokoro", 1.15), ("espeak", 1.0), ("kokoro", 0.95))
# voices whose G2P drops Latin letters (Kokoro's misaki zh): a letter is given to them as its
# spoken sound from the patterns file (G -> 雞), as a caller says it
NO_LATIN = ("kokoro",)
KIND_ORDER = ("intent", "yes_no", "digits", "date", "taiwan_id", "amount", "commands")
UNDERSTANDING_JSON = Path(__file__).resolve().parent / "results" / "understanding.json"
LEAD_S = 0.15  # a breath before and after the words, as an endpointer leaves them


def letter_sounds() -> dict[str, str]:
    words = yaml.safe_load(PATTERNS.read_text(encoding="utf-8"))["kinds"]["taiwan_id"]["letter_words"]
    return {letter: said[1] for letter, said in words.items()}


def spoken(item: Item, voice: str = "kokoro", sounds: dict[str, str] | None = None) -> str:
    """The text as the caller says it, for the voice: digit strings and years are said
    digit by digit (a TTS reads 139145931 or 1962 as one big number); a lone Latin
    letter is said by its sound for a voice that cannot read Latin."""
    text = item.text
    if item.kind in ("digits", "taiwan_id"):
        text = re.sub(r"\d", lambda m: han_digits(m.group()), text)
    elif item.kind == "date":
        text = re.sub(r"\d{4}(?=年)", lambda m: han_digits(m.group()), text)
    if item.kind == "taiwan_id" and voice in NO_LATIN and sounds:
        text = re.sub(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])", lambda m: sounds.get(m.group().upper(), m.group()), text)
    return text


class Voices:
    """Synthesized utterances at 16 kHz, cached on disk by voice, speed and text."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or cache_home() / "bench-audio"
        self._synths: dict[str, Synth] = {}
        self.made = 0

    def __call__(self, voice: str, speed: float, text: str) -> np.ndarray:
        key = hashlib.sha1(f"{voice}|{speed}|{text}".encode()).hexdigest()[:20]
        path = self.folder / f"{voice}@{speed}" / f"{key}.wav"
        if path.exists():
            x, rate = read_wav(path)
            return x if rate == 16000 else resample(x, rate, 16000)
        synth = self._synths.setdefault(voice, Synth(voice))
        x, rate = synth(text, speed)
        x = resample(np.asarray(x, dtype=np.int16), rate, 16000)
        lead = np.zeros(int(LEAD_S * 16000), np.int16)
        x = np.concatenate([lead, x, lead])
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, x, 16000)
        self.made += 1
        return x


def channel(x: np.ndarray, rate: int, condition: str, seed: int) -> tuple[np.ndarray, int]:
    if condition == "clean":
        return resample(x, rate, 16000), 16000
    tel = resample(x, rate, 8000)
    if condition.startswith("noisy_"):
        tel = add_noise(tel, float(condition.split("_")[1]), seed=seed)
    tel = ulaw_decode(ulaw_encode(tel))
    if condition.startswith("loss_"):
        tel = lose_packets(tel, float(condition.split("_")[1]) / 100, seed)
    return tel, 8000


# How a lost packet is filled: "silence" (what ivr's SIP receive path does) or "repeat"
# (bench/plc.py's pitch repetition, measured worse for Whisper). Set by --conceal.
CONCEAL = "silence"


def lose_packets(tel: np.ndarray, rate: float, seed: int) -> np.ndarray:
    """Each 20 ms RTP packet lost with probability ``rate`` (independently,
    seeded per utterance), filled as the SIP receive path fills it."""
    from plc import Concealer

    rng = np.random.default_rng(seed)
    frame = 160
    conceal = Concealer(8000, frame)
    out = []
    for i in range(0, tel.size - tel.size % frame, frame):
        if rng.random() < rate:
            out.append(conceal.lost() if CONCEAL == "repeat" else np.zeros(frame, np.int16))
        else:
            out.append(conceal.good(tel[i:i + frame]))
    return np.concatenate(out) if out else tel


def hints(nlu: Nlu, item: Item) -> tuple[str, ...]:
    if item.kind == "intent":
        return nlu.expected_phrases(list(MENU), item.language)
    if item.kind == "commands":
        return ()
    return nlu.expected_phrases(item.kind, item.language)


def choose(items: Sequence[Item], n: int, kinds: Sequence[str] | None = None) -> list[Item]:
    """Up to n Mandarin test utterances, one kind after another in turn."""
    pool = [i for i in items if i.language == "zh-TW" and (not kinds or i.kind in kinds)]
    return round_robin(pool, n, key=lambda i: i.kind)


def _rate(v: list[int]) -> float | None:
    return round(v[0] / v[1], 4) if v[1] else None


class _Tally:
    """Understood turns per condition, overall, per kind of step and per voice."""

    def __init__(self, conditions: Sequence[str]) -> None:
        self.right: dict[str, list[int]] = {c: [0, 0] for c in conditions}
        self.per_kind: dict[str, dict[str, list[int]]] = defaultdict(lambda: {c: [0, 0] for c in conditions})
        self.per_voice: dict[str, dict[str, list[int]]] = defaultdict(lambda: {c: [0, 0] for c in conditions})

    def add(self, kind: str, voice: str, cond: str, ok: bool) -> None:
        for table in (self.right, self.per_kind[kind], self.per_voice[voice]):
            table[cond][0] += ok
            table[cond][1] += 1

    def rates(self) -> dict[str, float | None]:
        return {c: _rate(v) for c, v in self.right.items()}

    def kinds(self) -> list[str]:
        return [k for k in KIND_ORDER if k in self.per_kind]

    def figures(self) -> dict[str, object]:
        rates = self.rates()
        return {"understood": rates,
                "missed": {c: rates[c] is not None and rates[c] < g for c, g in GOALS.items() if c in rates},
                "per_kind": {k: {c: _rate(v) for c, v in self.per_kind[k].items()} for k in self.kinds()},
                "per_voice": {v: {c: _rate(x) for c, x in d.items()} for v, d in sorted(self.per_voice.items())}}


def run_audio(nlu: Nlu, items: list[Item], n: int, judge: Callable[[Nlu, Item], dict[str, object]],
              conditions: Sequence[str] = CONDITIONS, kinds: Sequence[str] | None = None,
              real: bool = True, engine: object = None, show: bool = False) -> dict[str, object]:
    """``show``: print each line's reference, transcript and the value the dialog
    reads from it, per condition (synthetic lines only: no caller's PIN is printed)."""
    from ivr.asr import load_engine

    engine = engine or load_engine("whisper")
    voices = Voices()
    sounds = letter_sounds()
    chosen = choose(items, n, kinds)
    tally = _Tally(conditions)
    rows: list[dict[str, object]] = []
    t0 = time.perf_counter()
    decode_s = 0.0
    decodes = 0
    kind_s: dict[str, list[float]] = defaultdict(list)
    for k, item in enumerate(chosen):
        name, speed = VOICES[k % len(VOICES)]
        voice = f"{name}@{speed}"
        try:
            x = voices(name, speed, spoken(item, name, sounds))
        except Exception as err:  # a voice that cannot load is reported, not fatal
            rows.append({"text": item.text, "voice": voice, "error": str(err).splitlines()[0]})
            continue
        row: dict[str, object] = {"text": item.text, "kind": item.kind, "voice": voice}
        for cond in conditions:
            pcm, sr = channel(x, 16000, cond, seed=zlib.crc32(item.text.encode()))
            rec = engine.recognizer(sample_rate=sr)  # type: ignore[attr-defined]
            rec.set_expected(hints(nlu, item) or None, item.language)
            rec.accept(pcm.astype(np.int16).tobytes())
            t1 = time.perf_counter()
            heard = rec.finish().text
            spent = time.perf_counter() - t1
            decode_s += spent
            kind_s[item.kind].append(spent)
            decodes += 1
            verdict = judge(nlu, replace(item, text=heard)) if heard.strip() else {"ok": item.expected is None,
                                                                                  "got": None}
            ok = bool(verdict["ok"])
            if show:
                print(f"  {cond:9s} {item.kind:9s} {'ok ' if ok else 'BAD'} {item.text} | {heard} | "
                      f"{verdict['got']} (want {item.expected})")
            tally.add(item.kind, voice, cond, ok)
            row[cond] = {"heard": heard, "ok": ok}
        rows.append(row)
    real_result = run_real(nlu, engine) if real else {"skipped": "not asked"}
    rates = tally.rates()
    print(f"audio ({len(chosen)} distinct test utterances, voices {', '.join(f'{a}@{b}' for a, b in VOICES)}; "
          f"{voices.made} newly synthesized):")
    print("  " + " " * 10 + "".join(f"{c:>10s}" for c in conditions))
    for kind in tally.kinds():
        d = tally.per_kind[kind]
        print(f"  {kind:10s}" + "".join(f"{_fmt(_rate(d[c])):>10s}" for c in conditions) + f"   n={d[conditions[0]][1]}")
    print(f"  {'all':10s}" + "".join(f"{_fmt(rates[c]):>10s}" for c in conditions))
    for c in conditions:
        goal = GOALS.get(c)
        r = rates[c]
        if goal is not None and r is not None:
            print(f"  {c:10s} {r:7.1%}  {tally.right[c][0]}/{tally.right[c][1]}  goal {goal:.0%}"
                  + ("  MISSED" if r < goal else ""))
    return {"optional": True, "n": len(chosen), "voices": [f"{a}@{b}" for a, b in VOICES],
            "conditions": list(conditions), "goals": GOALS, **tally.figures(),
            "real_speech": real_result, "decodes": decodes,
            "decode_seconds_mean": round(decode_s / decodes, 3) if decodes else None,
            "decode_seconds_mean_per_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(kind_s.items())},
            "load_average_1min_at_end": _load(),
            "seconds": round(time.perf_counter() - t0, 1), "utterances": rows}


def _load() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return None


def _fmt(r: float | None) -> str:
    return "-" if r is None else f"{r:.1%}"


def run_real(nlu: Nlu, engine: object) -> dict[str, object]:
    """The real Mandarin clips in ../shared/data (none is a banking request), heard at the
    menu with its hints over clean and telephone channels: nothing may be taken for a service
    or a command. Counts false triggers (accepted intent or command); a 'confirm' is a question,
    counted apart."""
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "mandarin-real"
    listing = folder / "transcripts.tsv"
    if not listing.exists():
        print(f"  real speech: skipped ({folder} not found)")
        return {"skipped": f"{folder} not found"}
    rows, triggers, confirms, n = [], 0, 0, 0
    for line in listing.read_text(encoding="utf-8").splitlines():
        name = line.split("\t", 1)[0].strip()
        if not name:
            continue
        x, rate = read_wav(folder / name)
        for cond in ("clean", "telephone"):
            pcm, sr = channel(x, rate, cond, seed=zlib.crc32(name.encode()))
            rec = engine.recognizer(sample_rate=sr)  # type: ignore[attr-defined]
            rec.set_expected(nlu.expected_phrases(list(MENU), "zh-TW"), "zh-TW")
            rec.accept(pcm.astype(np.int16).tobytes())
            heard = rec.finish().text
            u = nlu.understand("intent", heard, "zh-TW", candidates=list(MENU))
            cmd = nlu.commands(heard, "zh-TW")
            fired = u.outcome == "accept" or cmd is not None
            triggers += fired
            confirms += u.outcome == "confirm"
            n += 1
            rows.append({"clip": name, "condition": cond, "heard": heard, "intent": u.value, "outcome": u.outcome,
                         "command": cmd})
    print(f"  real speech (not requests), {n} clip-conditions: {triggers} false triggers, {confirms} confirmations"
          f"  goal 0")
    return {"n": n, "false_triggers": triggers, "confirmations": confirms, "goal_false_triggers": 0,
            "missed": triggers > 0, "clips": rows}


def rejudge(nlu: Nlu, items: list[Item], stored: dict[str, Any],
            judge: Callable[[Nlu, Item], dict[str, object]]) -> dict[str, object]:
    """The stored transcripts of an earlier run judged again by the NLU as it is now, without
    synthesizing or decoding anything (Whisper is pinned, so a rerun writes the same
    transcripts: bench/results/understanding.json's last two runs agreed on all 560).
    The decode figures and the real clips are the stored run's."""
    conditions = list(stored["conditions"])
    by_text = {(i.text, i.kind): i for i in items}
    tally = _Tally(conditions)
    rows = []
    for row in stored["utterances"]:
        item = by_text.get((row["text"], row.get("kind")))
        if item is None or "error" in row:
            rows.append(row)
            continue
        new = dict(row)
        for cond in conditions:
            heard = row[cond]["heard"]
            ok = bool(judge(nlu, replace(item, text=heard))["ok"]) if heard.strip() else item.expected is None
            tally.add(item.kind, row["voice"], cond, ok)
            new[cond] = {"heard": heard, "ok": ok}
        rows.append(new)
    rates = tally.rates()
    for c in conditions:
        print(f"  {c:10s} {_fmt(rates[c]):>7s}  {tally.right[c][0]}/{tally.right[c][1]}  (stored run: {_fmt(stored['understood'][c])})")
    return stored | {**tally.figures(),
                     "utterances": rows, "rejudged": "transcripts of the stored run, judged by the current NLU"}


def main(argv: list[str] | None = None) -> int:
    from understanding import judge, one_core

    one_core()
    from understanding_set import build

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=112, help="distinct test utterances (default 112)")
    ap.add_argument("--kinds", default="", help="comma-separated kinds of step (default all)")
    ap.add_argument("--split", choices=("test", "dev"), default="test",
                    help="which half of the set (default test; tune on dev only)")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--no-real", action="store_true", help="skip the real Mandarin clips")
    ap.add_argument("--out", default="", help="write the result as JSON here (default: print only)")
    ap.add_argument("--update", action="store_true",
                    help=f"replace the audio section of {UNDERSTANDING_JSON.relative_to(UNDERSTANDING_JSON.parents[2])} "
                         "with this run (all kinds and conditions, --n 112 only; its baseline is kept)")
    ap.add_argument("--new-round", action="store_true",
                    help="with --update: the figures replaced become the new 'previous' (default: keep it)")
    ap.add_argument("--conceal", choices=("silence", "repeat"), default="silence",
                    help="how a lost packet is filled (loss_* conditions): silence, as ivr does, or by "
                         "repeating the voice before it (bench/plc.py)")
    ap.add_argument("--show", action="store_true", help="print reference | transcript | value for every line")
    ap.add_argument("--rejudge", default="", metavar="JSON",
                    help="no audio: judge the transcripts stored in JSON (an --out file, or the results file "
                         "with an audio section) again with the current NLU")
    args = ap.parse_args(argv)
    global CONCEAL
    CONCEAL = args.conceal
    kinds = [k for k in args.kinds.split(",") if k]
    conditions = [c for c in args.conditions.split(",") if c]
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        ap.error(f"unknown condition {unknown[0]!r} (known: {', '.join(CONDITIONS)})")
    if args.update and (kinds or args.n != 112 or tuple(conditions) != CONDITIONS or args.no_real
                        or args.split != "test" or args.conceal != "silence"):
        ap.error("--update replaces the published audio figures: run all kinds and conditions with --n 112")
    if args.rejudge:
        stored = json.loads(Path(args.rejudge).read_text(encoding="utf-8"))
        stored = stored.get("audio", stored)
        result = rejudge(Nlu.load(), build()[args.split], stored, judge)
    else:
        result = run_audio(Nlu.load(), build()[args.split], args.n, judge, conditions, kinds,
                           real=not args.no_real, show=args.show)
    if args.out:
        Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.update:
        report = json.loads(UNDERSTANDING_JSON.read_text(encoding="utf-8"))
        old = report.get("audio", {})
        # the figures published before this round of work are kept in summary (no transcripts) as
        # "previous", which the README quotes as "before": a rerun within the round keeps them
        previous = old.get("previous") if not args.new_round else None
        previous = previous or {k: old[k] for k in ("understood", "per_kind", "per_voice", "decode_seconds_mean")
                                if k in old}
        result = result | {"previous": previous} if previous else result
        if "baseline" in old:
            result = result | {"baseline": old["baseline"]}
        report["audio"] = result
        UNDERSTANDING_JSON.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"updated the audio section of {UNDERSTANDING_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
