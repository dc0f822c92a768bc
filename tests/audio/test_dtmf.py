import numpy as np
import pytest

from ivr.audio import DtmfDetector, dbm0_to_amplitude, dtmf_tones, frames, merge_dtmf, read_wav, resample
from ivr.frames import AudioFrame, DtmfDigit

ALL16 = "0123456789*#ABCD"


def detect(x: np.ndarray, rate: int, chunk: int | None = None) -> list[DtmfDigit]:
    det = DtmfDetector(rate)
    out: list[DtmfDigit] = []
    if chunk is None:
        for f in frames(x, rate):
            out += det.process(f)
    else:
        for i in range(0, len(x), chunk):
            out += det.process(AudioFrame.from_array(x[i:i + chunk], rate, i / rate))
    return out


def with_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xf = x.astype(np.float64)
    sig = np.mean(xf[xf != 0] ** 2)
    noise = rng.normal(0, np.sqrt(sig / 10 ** (snr_db / 10)), len(xf))
    return np.clip(np.rint(xf + noise), -32768, 32767).astype(np.int16)


def pad(x: np.ndarray, rate: int, lead: float = 0.137, tail: float = 0.2) -> np.ndarray:
    return np.concatenate([np.zeros(int(rate * lead), np.int16), x, np.zeros(int(rate * tail), np.int16)])


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("tone_ms,gap_ms", [(80, 80), (40, 40)])
def test_all_16_digits_at_minus_20_dbm_in_20_db_noise(rate, tone_ms, gap_ms):
    x = with_noise(pad(dtmf_tones(ALL16, rate, level_dbm=-20, tone_ms=tone_ms, gap_ms=gap_ms), rate), 20, rate)
    got = detect(x, rate)
    assert "".join(d.digit for d in got) == ALL16
    assert all(d.source == "inband" for d in got)
    period = (tone_ms + gap_ms) / 1000
    for i, d in enumerate(got):  # each press timed to its tone's start
        assert abs(d.timestamp - (0.137 + i * period)) <= 0.011


def test_frame_size_does_not_matter():
    x = with_noise(pad(dtmf_tones("159#", 8000, -20), 8000), 20, 1)
    a = [(d.digit, round(d.timestamp, 3)) for d in detect(x, 8000)]
    b = [(d.digit, round(d.timestamp, 3)) for d in detect(x, 8000, chunk=37)]
    assert a == b and [d for d, _ in a] == list("159#")


def test_repeated_key_counts_each_press_and_a_long_press_once():
    rate = 8000
    x = pad(dtmf_tones("55", rate, -15, tone_ms=60, gap_ms=50), rate)
    assert [d.digit for d in detect(x, rate)] == ["5", "5"]
    long = pad(dtmf_tones("7", rate, -15, tone_ms=1500), rate)
    assert [d.digit for d in detect(with_noise(long, 20, 2), rate)] == ["7"]


@pytest.mark.parametrize("rate", [8000, 16000])
def test_duration_limits_at_every_alignment(rate):
    # Q.24-style timing: >= 40 ms tones always count, <= 20 ms blips never do,
    # wherever they fall relative to the 20 ms frames
    for offset_ms in range(0, 20, 3):
        lead = 0.1 + offset_ms / 1000
        blip = with_noise(pad(dtmf_tones("1", rate, -10, tone_ms=20), rate, lead=lead), 25, offset_ms)
        assert detect(blip, rate) == [], offset_ms
        key = with_noise(pad(dtmf_tones("1", rate, -20, tone_ms=40), rate, lead=lead), 20, offset_ms)
        assert [d.digit for d in detect(key, rate)] == ["1"], offset_ms


def test_twist_limits():
    rate, n = 8000, 8000 // 10
    t = np.arange(n) / rate

    def pair(row_dbm, col_dbm):
        x = dbm0_to_amplitude(row_dbm) * np.sin(2 * np.pi * 770 * t) + dbm0_to_amplitude(col_dbm) * np.sin(
            2 * np.pi * 1336 * t)
        return pad(np.rint(x).astype(np.int16), rate)

    assert [d.digit for d in detect(pair(-10, -16), rate)] == ["5"]  # 6 dB normal twist: accepted
    assert detect(pair(-10, -22), rate) == []  # 12 dB normal twist: rejected
    assert detect(pair(-18, -10), rate) == []  # 8 dB reverse twist: rejected


def test_single_tone_speechlike_and_quiet_inputs_are_not_digits():
    rate = 8000
    t = np.arange(rate) / rate
    one_tone = (8000 * np.sin(2 * np.pi * 941 * t)).astype(np.int16)
    assert detect(one_tone, rate) == []
    # a row tone with a strong second harmonic (voice-like), plus a column tone
    harm = 6000 * (np.sin(2 * np.pi * 697 * t) + np.sin(2 * np.pi * 1209 * t) + 0.5 * np.sin(2 * np.pi * 1394 * t))
    assert detect(harm.astype(np.int16), rate) == []
    quiet = pad(dtmf_tones("1", rate, level_dbm=-45), rate)
    assert detect(quiet, rate) == []


def test_no_talk_off_on_real_speech(mandarin_real, taiwanese_real):
    files = sorted(mandarin_real.glob("*.wav")) + sorted(taiwanese_real.glob("*.wav"))
    assert len(files) >= 39
    falsely = {}
    for f in files:
        x, r = read_wav(f)
        for rate in (16000, 8000):
            got = detect(resample(x, r, rate), rate)
            if got:
                falsely[f"{f.name}@{rate}"] = "".join(d.digit for d in got)
    assert falsely == {}


def test_digits_inside_real_speech_are_still_found(mandarin_real):
    x, r = read_wav(mandarin_real / "fr_BAC009S0764W0121.wav")
    x = resample(x, r, 8000)
    keys = dtmf_tones("42", 8000, -15)
    at = 8000  # one second in, over the speech
    mixed = x.astype(np.int32)
    mixed[at:at + len(keys)] = keys  # the phone mutes the mic while a key sounds
    got = detect(np.clip(mixed, -32768, 32767).astype(np.int16), 8000)
    assert [d.digit for d in got] == ["4", "2"]


def test_tone_generator():
    x = dtmf_tones("1#", 8000, level_dbm=-10, tone_ms=80, gap_ms=40)
    assert len(x) == 8000 * (80 + 40 + 80) // 1000 and x.dtype == np.int16
    assert np.all(x[640:960] == 0)
    # each tone at -10 dBm0: two sines, total power twice one sine's
    a = dbm0_to_amplitude(-10)
    assert np.mean(x[:640].astype(float) ** 2) == pytest.approx(a * a, rel=0.02)
    with pytest.raises(ValueError):
        dtmf_tones("1E", 8000)


def test_merge_interleaves_in_time_and_drops_double_sent_keys():
    inband = [DtmfDigit("1", 0.50, "inband"), DtmfDigit("2", 1.50, "inband"), DtmfDigit("2", 2.40, "inband")]
    outband = [DtmfDigit("1", 0.55, "outband"), DtmfDigit("9", 1.00, "outband"), DtmfDigit("2", 2.00, "outband")]
    got = merge_dtmf(inband, outband)
    assert [(d.digit, d.timestamp, d.source) for d in got] == [
        ("1", 0.50, "inband"), ("9", 1.00, "outband"), ("2", 1.50, "inband"),
        ("2", 2.00, "outband"), ("2", 2.40, "inband")]


@pytest.mark.parametrize("rate", [8000, 16000])
def test_frequency_tolerance_accepts_1_5_percent_and_rejects_3_5(rate):
    # Q.24: keypads up to 1.5 % off nominal must work; 3.5 % off must not
    t = np.arange(int(rate * 0.06)) / rate
    a = dbm0_to_amplitude(-15)

    def keyed(row, col, dev):
        x = a * (np.sin(2 * np.pi * row * (1 + dev) * t) + np.sin(2 * np.pi * col * (1 + dev) * t))
        return pad(np.rint(x).astype(np.int16), rate)

    for row, col, digit in [(697, 1209, "1"), (770, 1336, "5"), (852, 1477, "9"), (941, 1633, "D")]:
        for dev in (-0.015, 0.015):
            assert [d.digit for d in detect(keyed(row, col, dev), rate)] == [digit], (digit, dev)
        for dev in (-0.035, 0.035):
            assert detect(keyed(row, col, dev), rate) == [], (digit, dev)
