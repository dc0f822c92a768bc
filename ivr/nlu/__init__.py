"""NLU: normalisation, intent classification, slot extraction and recogniser
hints for Mandarin (zh-TW) and Taiwanese (nan-TW). See ARCHITECTURE.md "nlu"."""
from .errors import NluDataError, NluError
from .nlu import COMMANDS, DEFAULT_DATA, SLOT_KINDS, IntentResult, Nlu
from .numbers import fold_numerals, parse_value
from .training_data import Example, load_examples

__all__ = ["COMMANDS", "DEFAULT_DATA", "SLOT_KINDS", "Example", "IntentResult", "Nlu", "NluDataError",
           "NluError", "fold_numerals", "load_examples", "parse_value"]
