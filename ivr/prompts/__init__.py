"""Prompts: catalogue, rendering (recording or TTS), TTS engines, disk cache,
and verbalizers that write numbers, dates and phone numbers as speech."""
from ivr.prompts.cache import TtsCache, cache_key, default_cache_dir
from ivr.prompts.catalogue import Prompt, PromptCatalogue, PromptVariant
from ivr.prompts.clips import clip_names, concat_clips, has_number_clips, number_clips
from ivr.prompts.engine import DEFAULT_TTS, TTS_ENGINES, TtsEngine, load_tts
from ivr.prompts.errors import PromptError, TtsError, VerbalizeError
from ivr.prompts.renderer import PromptRenderer, SayRenderer
from ivr.prompts.verbalize_nan import verbalize_amount_nan, verbalize_digits_nan, verbalize_number_nan
from ivr.prompts.verbalize_zh import (
    verbalize_amount_zh,
    verbalize_date_zh,
    verbalize_digits_zh,
    verbalize_number_zh,
    verbalize_phone_zh,
)

__all__ = [
    "DEFAULT_TTS", "TTS_ENGINES", "Prompt", "PromptCatalogue", "PromptError", "PromptRenderer", "SayRenderer",
    "PromptVariant", "TtsCache", "TtsEngine", "TtsError", "VerbalizeError", "cache_key", "clip_names",
    "concat_clips", "default_cache_dir", "has_number_clips", "load_tts", "number_clips",
    "verbalize_amount_nan", "verbalize_amount_zh", "verbalize_date_zh", "verbalize_digits_nan",
    "verbalize_digits_zh", "verbalize_number_nan", "verbalize_number_zh", "verbalize_phone_zh",
]
