"""The README quotes bench/results/*.json: its figures cannot drift from them.

Two checks: every statement the README's Benchmarks section and speech-engine
table make about a benchmark is rebuilt here from the JSON (figure, goal and
verdict: a miss must be said as a miss) and must appear word for word; and
every number in those places must be a value some bench/results JSON holds
(as written, as a percentage, or in milliseconds), so a figure added by hand
fails until its benchmark writes it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?!\w)")


def _flat(text: str) -> str:
    """Markdown as read: no emphasis or code marks, one space for any run of white space."""
    return re.sub(r"\s+", " ", text.replace("**", "").replace("`", ""))


def _section(title: str, end: str | None = None) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    stop = text.find(end, start) if end else -1
    if stop < 0:
        stop = text.find("\n## ", start + 1)
    return text[start:stop if stop >= 0 else len(text)]


def _benchmarks() -> str:
    return _section("Benchmarks")


def _engine_cells() -> str:
    """The "measured here" column of the speech-engine table."""
    rows = [ln for ln in _section("Speech engines").splitlines() if ln.startswith("| `")]
    return "\n".join(ln.strip().strip("|").split("|")[-1] for ln in rows)


def _json(name: str) -> dict[str, Any]:
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def r(x: float | Decimal, decimals: int) -> str:
    """Rounded half up from the value as the JSON writes it (0.9805 -> 98.1 %, 1.625 -> 1.63)."""
    d = x if isinstance(x, Decimal) else Decimal(repr(x))
    return str(d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def pct(x: float) -> str:
    return f"{r(Decimal(repr(x)) * 100, 1)} %"


def mark(verdict: str) -> str:
    return "missed" if verdict == "missed" else verdict


def _round(doc: dict[str, Any], scenario: str, calls: int, early_end: bool = True) -> dict[str, Any]:
    return next(r for r in doc["rounds"] if r["scenario"] == scenario and r["calls"] == calls
                and not r.get("start_spread_s") and r.get("early_end", True) == early_end)


def _verdict(doc: dict[str, Any], goal_prefix: str) -> str:
    return next(v["verdict"] for v in doc["verdicts"] if v["goal"].startswith(goal_prefix))


def _calls() -> Iterator[tuple[str, str]]:
    d = _json("calls.json")
    g = d["goals"]
    one, eight = _round(d, "speech", 1), _round(d, "speech", 8)
    m = d["machine"]
    yield "calls: conditions", (f"load average {m['load_avg_1m_at_start']} at the start and {m['load_avg_1m']} at the "
                                f"end, Whisper base with {d['whisper_workers']} decode workers")
    yield "calls: end-of-turn wait", (f"ends {d['speech_complete_wait_s']} s after the caller stops when what was heard "
                                      f"already completes the answer, else after its "
                                      f"0.{int(d['speech_end_of_turn_wait_s'] * 10)} s end-of-turn wait")
    v1 = _verdict(d, "closed-set, 1 call")
    yield "calls: 1 call", (f"| 1 | {r(one['latency_p50_s'], 2)} s | {r(one['latency_p95_s'], 2)} s | p50 ≤ "
                            f"{g['closed_set_1_call_p50_s']} s | {mark(v1)} | {r(one['latency_after_endpoint_p50_s'], 2)} / "
                            f"{r(one['latency_after_endpoint_p95_s'], 2)} s |")
    v50, v95 = _verdict(d, "closed-set, 8 at once, raw p50"), _verdict(d, "closed-set, 8 at once, raw p95")
    both = ("missed (both)" if v50 == v95 == "missed" else "missed (p50)" if v50 == "missed"
            else "missed (p95)" if v95 == "missed" else v50)
    yield "calls: 8 at once", (f"| 8 finishing at the same instant | {r(eight['latency_p50_s'], 2)} s | "
                               f"{r(eight['latency_p95_s'], 2)} s | p50 ≤ {g['closed_set_8_calls_p50_s']} s, p95 ≤ "
                               f"{g['closed_set_8_calls_p95_s']} s | {both} | {r(eight['latency_after_endpoint_p50_s'], 2)}"
                               f" / {r(eight['latency_after_endpoint_p95_s'], 2)} s |")
    free, fr = _verdict(d, "free speech"), _round(d, "free", 8)
    yield "calls: free speech", (f"| 8, free-speech step | {r(fr['latency_p50_s'], 2)} s | {r(fr['latency_p95_s'], 2)} s | "
                                 f"p50 ≤ {g['free_speech_8_calls_p50_s']} s | {mark(free)} | "
                                 f"{r(fr['latency_after_endpoint_p50_s'], 2)} / {r(fr['latency_after_endpoint_p95_s'], 2)} s |")
    off1, off8 = _round(d, "speech", 1, False), _round(d, "speech", 8, False)
    yield "calls: without early end", (f"without the early end (session.early_end_of_turn=false): 1 call raw p50 "
                                       f"{r(off1['latency_p50_s'], 2)} s, 8 at once p50 {r(off8['latency_p50_s'], 2)} s / "
                                       f"p95 {r(off8['latency_p95_s'], 2)} s")
    early = [x["turns_ended_by"].get("complete", 0) for x in (one, eight)]
    yield "calls: ended early", f"turns ended early (answer complete): {early[0]} of 1 and {early[1]} of 8"
    p1, p8, q1, q8 = (_round(d, "pause", n, e) for e in (True, False) for n in (1, 8))
    cut = [_verdict(d, f"cut-offs, {n} at once") for n in (1, 8)]
    verdict = "missed" if "missed" in cut else "met" if cut == ["met", "met"] else "not measured"
    yield "calls: cut-offs", (f"with the early end {p1['cut_offs']} of 1 and {p8['cut_offs']} of 8, without "
                              f"{q1['cut_offs']} of 1 and {q8['cut_offs']} of 8 (goal: no more than without: {mark(verdict)})")
    b = eight["breakdown_p50_s"]
    yield "calls: stages", (f"endpoint {b['endpoint']} s, queue {b['queue']} s, decode {b['decode']} s, NLU + dialog "
                            f"{b['nlu_dialog']} s, render {b['render']} s, first frame {b['first_frame']} s")
    # staggered arrivals are their own run (bench/calls.py --stagger): calls-staggered.json
    s = _json("calls-staggered.json")
    stag = _verdict(s, "32 staggered callers, raw p95")
    if stag == "not measured":
        yield "calls: staggered", (f"| 32 staggered | – | – | p95 ≤ {g['staggered_32_calls_p95_s']} s, no late reply "
                                   "frames | not measured | – |")
    else:
        st = next(x for x in s["rounds"] if x["scenario"] == "speech" and x["calls"] == 32)
        yield "calls: staggered", (f"| 32 staggered (calls-staggered.json) | {r(st['latency_p50_s'], 2)} s | "
                                   f"{r(st['latency_p95_s'], 2)} s | p95 ≤ {g['staggered_32_calls_p95_s']} s, no late "
                                   f"reply frames | {mark(stag)} ({st['late_reply_frames']} of {st['reply_frames']:,} "
                                   f"frames late) | {r(st['latency_after_endpoint_p50_s'], 2)} / "
                                   f"{r(st['latency_after_endpoint_p95_s'], 2)} s |")
    dtmf = next(v for v in d["verdicts"] if v["goal"].startswith(">="))
    k = _round(d, "dtmf", int(dtmf["round"].split("x")[1]))
    yield "calls: keypad", (f"| {k['calls']} keypad-only (last key → reply) | {r(k['latency_p50_s'], 3)} s | "
                            f"{r(k['latency_p95_s'], 2)} s | ≥ {g['dtmf_realtime_calls']} calls in real time (no late "
                            f"reply frames) | {mark(dtmf['verdict'])}: {k['late_reply_frames']} of {k['reply_frames']:,} "
                            f"reply frames late ({pct(dtmf['late_share'])}) |")
    m = s["machine"]
    yield "calls-staggered", (f"calls-staggered.json (load average {m['load_avg_1m_at_start']} at the start, "
                              f"{m['load_avg_1m']} at the end): callers starting at uniformly random times within "
                              f"{r(s['rounds'][0]['start_spread_s'], 0)} s")
    for x in s["rounds"]:
        if x["scenario"] == "speech":
            yield f"calls-staggered {x['calls']}", (f"{x['calls']} callers: raw p50 {r(x['latency_p50_s'], 2)} s, "
                                                    f"p95 {r(x['latency_p95_s'], 2)} s, {x['late_reply_frames']} late "
                                                    "reply frames")


def _tts_first_audio() -> Iterator[tuple[str, str]]:
    d = _json("tts_first_audio.json")
    k, e = d["engines"]["kokoro"], d["engines"]["espeak"]
    yield "tts first audio", (f"load average {d['load_avg_1m_at_start']} at the start and {d['load_avg_1m']} at the "
                              f"end): Kokoro {r(k['first_audio_whole_p50_s'], 2)} s whole, "
                              f"{r(k['first_audio_by_clause_p50_s'], 2)} s by clause, "
                              f"{r(k['first_audio_spliced_p50_s'], 2)} s spliced (goal {k['goal_s']} s, "
                              f"{mark(k['verdict'])}: {k['name_first_n']} of the {k['sentences_n']} sentences begin with "
                              f"the caller's name, synthesized first); "
                              f"{r(k['first_audio_spliced_fixed_first_p50_s'], 3)} s when a fixed part comes first "
                              f"({mark(k['verdict_fixed_first'])}), {r(k['total_spliced_p50_s'], 2)} s to render the "
                              f"whole sentence; Whisper heard the values back in {k['spliced_values_heard']} of "
                              f"{k['sentences_n']}, and in {k['spliced_numbers_values_heard']} of {k['sentences_n']} "
                              f"with the numbers spliced from pre-rendered pieces too")
    yield "tts first audio espeak", (f"espeak {r(e['first_audio_whole_p50_s'], 3)} s whole, "
                                     f"{r(e['first_audio_by_clause_p50_s'], 3)} s by clause, "
                                     f"{r(e['first_audio_spliced_p50_s'], 3)} s spliced")


def _soak() -> Iterator[tuple[str, str]]:
    d = _json("soak.json")
    v, g = d["verdicts"], d["goals"]
    yield "soak: run", (f"{r(d['minutes'], 0)} minutes of {d['concurrent_calls']} concurrent keypad-only callers, "
                        f"{d['calls_made']:,} calls")
    yield "soak: records", f"{d['records_lost']} records lost (goal {g['records_lost']}: {v['records_lost']})"
    yield "soak: connections", f"{d['connect_failures']} connection failures (goal {g['connect_failures']}: {v['connect_failures']})"
    n = d["calls_dropped"]
    yield "soak: dropped", f"{n} call{'' if n == 1 else 's'} dropped (goal {g['calls_dropped']}: {v['calls_dropped']})"
    yield "soak: memory", f"{d['rss_mb_first']} → {d['rss_mb_last']} MB"


def _model(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in doc["models"] if m["model"] == name)


def _asr() -> Iterator[tuple[str, str]]:
    d = _json("asr.json")
    w, s = _model(d, "whisper-base"), _model(d, "pocketsphinx-zh")
    c, lat = w["mandarin_cer_counts"], w["latency"]
    yield "asr: conditions", (f"load average {d['loadavg_1min_at_start']} at the start and {d['loadavg_1min_at_end']} "
                              f"at the end, Whisper on {w['cpu_isa']}")
    yield "asr: CER", (f"Whisper base CER on real Mandarin {pct(c['cer'])} = {c['errors']} errors / {c['chars']} "
                       f"characters over {c['clips']} clips")
    dom = c["dominant_clip"]
    if dom is not None:
        yield "asr: dominant clip", (f"{dom['errors']} of the {c['errors']} errors are in one clip ({dom['file']}, "
                                     f"{dom['chars']} of the {c['chars']} characters")
        yield "asr: other clips", (f"the other {c['clips'] - 1} clips: {c['errors'] - dom['errors']} / "
                                   f"{c['chars'] - dom['chars']} ({pct(dom['cer_without_it'])})")
    yield "asr: RTF", f"RTF {r(w['mandarin_rtf'], 2)}."
    yield "asr: latency", (f"(including a {lat['trailing_silence_ms']} ms trailing silence), mean "
                           f"{r(lat['plain']['raw_end_of_speech_to_final_mean_seconds'], 2)} s plain and "
                           f"{r(lat['speculative']['raw_end_of_speech_to_final_mean_seconds'], 2)} s with speculative "
                           f"decoding; after the endpoint {r(lat['plain']['mean_finish_seconds'], 2)} s and "
                           f"{r(lat['speculative']['mean_finish_seconds'], 2)} s")
    yield "asr: sphinx", f"Taiwanese closed set {s['taiwanese_closed_set']} (RTF {r(s['taiwanese_rtf'], 3)})"


def _nlu() -> Iterator[tuple[str, str]]:
    d = _json("nlu.json")
    yield "nlu", (f"{pct(d['accuracy'])} intent accuracy on {d['n']} held-out lines, but {d['near_copies_within_1_edit']} "
                  f"of them are within one edit of a training line (near-copies; {pct(d['accuracy_near_copies'])} right). "
                  f"On the other {d['n_not_near_copies']}: {pct(d['accuracy_not_near_copies'])}")


def _e2e() -> Iterator[tuple[str, str]]:
    d = _json("e2e.json")
    m = d["default"]
    assert d["fixtures_tuned"], "e2e.json must say whether the fixtures were tuned"
    xfail = len(m["xfail_scenarios"])
    yield "e2e: scenarios", (f"load average {d['machine']['load_avg_1m_at_start']}, Whisper on "
                             f"{d['machine']['whisper_cpu_isa']}): {m['scenarios']} QA scenarios")
    yield "e2e: xfail", ("none marked xfail in this run" if not xfail else f"{xfail} marked xfail in this run")
    yield "e2e: completion", (f"Task completion {m['self_service_completed']}/{m['self_service_expected']} (goal "
                              f"{r(Decimal(repr(m['task_completion_goal'])) * 100, 0)} %, {m['task_completion_verdict']})")
    yield "e2e: intents", f"intent accuracy {m['intent_accuracy']} over {m['intent_turns']} turns"
    yield "e2e: handoffs", f"handoff queue accuracy {m['handoff_queue_accuracy']} over {m['handoffs_expected']} scenarios"
    w = m["cer_by_engine"]["whisper"]
    yield "e2e: CER", f"Whisper CER {pct(w['cer'])} = {w['errors']} / {w['chars']} characters over {w['turns']} turns"
    yield "e2e: biased high", "These fixtures were tuned until they passed: all of these are biased high"
    yield "e2e: latency", f"time): p50 {r(m['turn_latency']['speech']['p50_ms'], 0)} ms; not a real-time figure"
    rt = d["replayed_twice"]
    yield "e2e: replayed twice", (f"Replayed twice: {rt['scenarios_differing']} of {rt['scenarios']} scenarios "
                                  f"differed over {rt['turns']} turns")


def _audio() -> Iterator[tuple[str, str]]:
    d = _json("audio_pipeline.json")
    n, goal = d["realtime_calls_one_core"], d["goal_calls"]
    yield "audio", (f"load average {d['load_average_1min']}): {n} concurrent 8 kHz calls per core "
                    f"(goal {goal}: {'met' if n >= goal else 'missed'})")


def _engines() -> Iterator[tuple[str, str]]:
    d = _json("asr.json")
    w, s = _model(d, "whisper-base"), _model(d, "pocketsphinx-zh")
    c = w["mandarin_cer_counts"]
    one = f", {c['dominant_clip']['errors']} of them in one clip" if c["dominant_clip"] else ""
    yield "engines: whisper", (f"CER {pct(c['cer'])} on real Mandarin ({c['errors']} errors / {c['chars']} characters, "
                               f"{c['clips']} clips{one}), RTF {r(w['mandarin_rtf'], 2)} at load average "
                               f"{d['loadavg_1min_at_start']}")
    right, total = s["taiwanese_closed_set"].split("/")
    yield "engines: sphinx", (f"Taiwanese closed set {right}/{total} (the {total} recordings' own sentences as the "
                              f"grammar), RTF {r(s['taiwanese_rtf'], 3)} at load average {d['loadavg_1min_at_start']}")


BENCH_QUOTES = [*_calls(), *_tts_first_audio(), *_soak(), *_asr(), *_nlu(), *_e2e(), *_audio()]
ENGINE_QUOTES = list(_engines())


@pytest.mark.parametrize(("what", "quote"), BENCH_QUOTES, ids=[w for w, _ in BENCH_QUOTES])
def test_benchmarks_section_quotes_the_json(what: str, quote: str) -> None:
    assert quote in _flat(_benchmarks()), f"README Benchmarks ({what}) should say: {quote}"


@pytest.mark.parametrize(("what", "quote"), ENGINE_QUOTES, ids=[w for w, _ in ENGINE_QUOTES])
def test_engine_table_quotes_the_json(what: str, quote: str) -> None:
    assert quote in _flat(_engine_cells()), f"README speech-engine table ({what}) should say: {quote}"


def _leaves(node: Any) -> Iterator[float]:
    if isinstance(node, dict):
        for v in node.values():
            yield from _leaves(v)
    elif isinstance(node, list):
        for v in node:
            yield from _leaves(v)
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield float(node)


def _json_holds(token: str, decimals: int, values: list[float]) -> bool:
    x = token.replace(",", "")
    return any(r(Decimal(repr(v)) * k, decimals) == x for v in values for k in (1, 100, 1000))


def test_every_number_is_in_some_result() -> None:
    values = [v for p in sorted(RESULTS.glob("*.json")) for v in _leaves(json.loads(p.read_text(encoding="utf-8")))]
    text = re.sub(r"`[^`]*`", " ", _benchmarks() + "\n" + _engine_cells())  # file names, commands
    text = re.sub(r"issue \d+|#\d+", " ", text)
    unknown = sorted({m.group(0) for m in NUMBER.finditer(text)
                      if not _json_holds(m.group(1) + (f".{m.group(2)}" if m.group(2) else ""),
                                         len(m.group(2) or ""), values)})
    assert not unknown, f"README numbers that no bench/results/*.json holds: {unknown}"


def test_the_check_catches_a_drifted_figure() -> None:
    # the number check itself: a value one digit off is not accepted
    assert _json_holds("0.87", 2, [0.872]) and _json_holds("21.1", 1, [0.2105]) and _json_holds("1,750", 0, [1750])
    assert not _json_holds("0.17", 2, [0.872, 1.92]) and not _json_holds("18.4", 1, [0.2105])
