"""NLU: normalisation, intent classification, slot extraction and recogniser
hints for Mandarin (zh-TW) and Taiwanese (nan-TW). See ARCHITECTURE.md "nlu"."""
from .entities import LETTER_CODES, date_from_digits, id_checksum_ok, id_from_key_code
from .errors import NluDataError, NluError
from .nlu import COMMANDS, DEFAULT_DATA, OUTCOMES, SLOT_KINDS, IntentResult, Nlu, Understanding
from .numbers import fold_numerals, parse_value
from .training_data import Example, load_examples

__all__ = ["COMMANDS", "DEFAULT_DATA", "LETTER_CODES", "OUTCOMES", "SLOT_KINDS", "Example", "IntentResult", "Nlu",
           "NluDataError", "NluError", "Understanding", "date_from_digits", "fold_numerals", "id_checksum_ok",
           "id_from_key_code", "load_examples", "parse_value"]
