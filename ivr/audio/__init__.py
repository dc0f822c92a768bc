"""Audio: WAV I/O, G.711, resampling, framing, VAD/endpointing, DTMF,
sources and sinks (file, memory, microphone, speaker), a noise front end."""
from ivr.errors import AudioFormatError

from .base import AudioSink, AudioSource
from .denoise import Denoiser, denoise, estimate_noise
from .device import MicSource, SpeakerSink
from .dtmf import DtmfDetector, dbm0_to_amplitude, dtmf_tones, merge_dtmf
from .framing import Framer, frame_samples, frames
from .g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from .resample import Resampler, resample
from .sinks import ClockedSink, MemorySink, WavSink
from .sources import ClockedSource, MemorySource, WavSource
from .timeline import analyse, analyse_frames, analyse_samples, format_timeline, timeline_rows
from .vad import Endpointer, VadState
from .wav import parse_wav, read_wav, wav_bytes, write_wav

__all__ = [
    "AudioFormatError",
    "read_wav", "write_wav", "parse_wav", "wav_bytes",
    "ulaw_encode", "ulaw_decode", "alaw_encode", "alaw_decode",
    "Resampler", "resample",
    "frames", "Framer", "frame_samples",
    "AudioSource", "ClockedSource", "MemorySource", "WavSource", "MicSource",
    "AudioSink", "ClockedSink", "MemorySink", "WavSink", "SpeakerSink",
    "Endpointer", "VadState",
    "Denoiser", "denoise", "estimate_noise",
    "DtmfDetector", "dtmf_tones", "dbm0_to_amplitude", "merge_dtmf",
    "analyse", "analyse_samples", "analyse_frames", "timeline_rows", "format_timeline",
]
