"""Per-language dialog policy: a Taiwanese call always finishes.

The nan-TW recognizer (a small pocketsphinx grammar) mishears more often than
Mandarin's, so for a language whose policy says so (``FlowDefaults.policy_for``;
built in: nan-TW) every closed-set step behaves like this, with no YAML per step:

- **keys after misses**: after ``keys_after_misses`` misses (no-match, rejected
  speech, no-input, a "no" to a read-back) the step asks for keys and says which
  key does what (查餘額請揤1…); the retries and ``on_exhausted`` stay the step's.
- **short menus**: an intent step with more keyed choices than ``menu_size``
  offers them that many at a time; ``more_key`` (8) offers the next ones.
- **read-back**: a menu choice heard by voice is said back and used only after
  key 1 or a yes (你講的是查餘額，著請揤1，毋著請揤2); a no counts as a miss.
- **secrets by keys**: a PIN or code said aloud is not used (a misheard PIN would
  count toward the bank's lockout): the caller is asked to key it.

Every prompt made here has a key (``menu.menu.keys1``, ``menu.menu.read_back.
check_balance``, ``dialog.use_keys``) and is read from the recording
``<flows>/prompts/<language>/<key>.wav`` when the flows have one, else its text
goes to the TTS like any other nan-TW prompt; ``ivr say --missing nan-TW`` lists
the ones still to record (``generated_prompts``)."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ivr.dialog.loader import FlowSet
from ivr.dialog.models import CollectStep, Flow, LanguagePolicy, Prompt
from ivr.dialog.state import DialogState

# Values the NLU names (``Nlu.describe``, ivr/nlu/data/sounds.yml); a test keeps the two in step.
NLU_NAMED = frozenset({"check_balance", "reset_password", "report_card_loss", "technical_support", "complaint",
                       "talk_to_agent"})
# The language choice is the dialog's own (LANG_COMMANDS in the engine).
LANG_LABELS = {"lang_zh": {"zh-TW": "國語", "nan-TW": "華語"}, "lang_nan": {"zh-TW": "台語", "nan-TW": "台語"}}
LANG_VALUES = frozenset(LANG_LABELS)
KEYABLE = ("intent", "yes_no", "digits", "date", "taiwan_id", "amount")
VALUE_KINDS = ("digits", "date", "taiwan_id", "amount")

# Said when a step switches to keys (then the choices, or the step's own prompt).
USE_KEYS = Prompt.model_validate({"zh-TW": "請改用電話按鍵選擇。", "nan-TW": "請改用電話揤號碼。"})
VALUE_KEYS = Prompt.model_validate({"zh-TW": "請改用電話的數字鍵輸入。", "nan-TW": "請改用電話的數字鍵揤。"})
YES_NO_KEYS = Prompt.model_validate({"zh-TW": "是請按1，不是請按2。", "nan-TW": "是請揤1，毋是請揤2。"})
SECRET_KEYS = Prompt.model_validate({"zh-TW": "為了安全，密碼請不要說出來。", "nan-TW": "為著安全，密碼請毋通講出來。"})
BUILTIN = {"use_keys": USE_KEYS, "value_keys": VALUE_KEYS, "yes_no_keys": YES_NO_KEYS, "secret_keys": SECRET_KEYS}

_PRESS = {"zh-TW": "請按", "nan-TW": "請揤"}
_MORE = {"zh-TW": "其他選項", "nan-TW": "其他的選項"}
_AGAIN = {"zh-TW": "再聽一次選項", "nan-TW": "閣聽一擺選項"}
_READ_BACK = {"zh-TW": "您說的是{label}，對的話請按1，不對請按2。",
              "nan-TW": "你講的是{label}，著請揤1，毋著請揤2。"}
_KEY_IN_TEXT = re.compile(r"(?:揤|按)\s*[0-9]")


class PolicyRun(Protocol):
    """What this module needs of the executor (``ivr.dialog.engine._Run``)."""

    st: DialogState
    fs: FlowSet

    @property
    def here(self) -> str: ...

    def say(self, prompt: Prompt | None, key: str, extra: dict[str, Any] | None = None,
            interruptible: bool = True) -> None: ...

    def listen(self, step: CollectStep, confirm: bool = False, again: bool = False) -> None: ...

    def describe(self, value: str, language: str) -> str | None: ...


Describe = Callable[[str, str], "str | None"]


# ------------------------------------------------------------ pure helpers
def label(step: CollectStep, value: str, language: str, describe: Describe | None) -> str | None:
    """How a keys menu or a read-back names ``value`` in ``language``."""
    own = step.labels.get(value)
    text = own.get(language) if own is not None else None
    if text is not None:
        return text.text
    if value in LANG_LABELS:
        return LANG_LABELS[value].get(language)
    return describe(value, language) if describe is not None else None


def choices(step: CollectStep) -> list[tuple[str, str]]:
    """(key, value) of an intent step's keyed choices, in the flow's order."""
    return [(k, v) for k, v in step.dtmf.items() if isinstance(v, str)] if step.type == "intent" else []


def pages(step: CollectStep, pol: LanguagePolicy) -> list[list[tuple[str, str]]]:
    opts = choices(step)
    size = pol.menu_size
    if not size or len(opts) <= size or pol.more_key in step.dtmf:
        return [opts]
    return [opts[i:i + size] for i in range(0, len(opts), size)]


def page_text(step: CollectStep, pol: LanguagePolicy, page: int, language: str, describe: Describe | None) -> str:
    """查餘額請揤1，重設密碼請揤2，掛失卡片請揤3，其他的選項請揤8。"""
    all_pages = pages(step, pol)
    press = _PRESS.get(language, "請按")
    parts = [f"{label(step, v, language, describe) or v}{press}{k}" for k, v in all_pages[page % len(all_pages)]]
    if len(all_pages) > 1:
        last = page % len(all_pages) == len(all_pages) - 1
        parts.append(f"{(_AGAIN if last else _MORE).get(language, '')}{press}{pol.more_key}")
    return "，".join(parts) + "。"


def read_back_text(step: CollectStep, value: str, language: str, describe: Describe | None) -> str | None:
    name = label(step, value, language, describe)
    return _READ_BACK[language].format(label=name) if name and language in _READ_BACK else None


def recording(fs: FlowSet, language: str, key: str) -> str | None:
    """The recording of a generated prompt, relative to the flows directory, if the flows have it."""
    rel = f"prompts/{language}/{key}.wav"
    return rel if rel in fs.recordings else None


# ------------------------------------------------------------ at run time
def policy(run: PolicyRun) -> LanguagePolicy:
    return run.fs[run.here].defaults.policy_for(run.st.language)


def _say(run: PolicyRun, text: str, key: str) -> None:
    lang = run.st.language
    audio = recording(run.fs, lang, key)
    run.say(Prompt.model_validate({lang: {"text": text, "audio": audio} if audio else text}), key)


def say_builtin(run: PolicyRun, name: str) -> None:
    p = BUILTIN[name].get(run.st.language) or BUILTIN[name].get("zh-TW")
    assert p is not None  # every built-in has zh-TW text
    _say(run, p.text, f"dialog.{name}")


def _key(run: PolicyRun, step: CollectStep, what: str) -> str:
    return f"{run.here}.{step.id}.{what}"


def offer_page(run: PolicyRun, step: CollectStep) -> None:
    """After a long menu's own prompt: the choices of the current page, with their keys."""
    if step.type != "intent":
        return
    pol = policy(run)
    n = len(pages(step, pol))
    if n > 1 or run.st.keys_only:
        page = run.st.menu_page % n
        _say(run, page_text(step, pol, page, run.st.language, run.describe), _key(run, step, f"keys{page + 1}"))


def next_page(run: PolicyRun, step: CollectStep, keys: str) -> bool:
    """``more_key`` at a long menu: offer the next choices (not a miss). True when done."""
    pol = policy(run)
    n = len(pages(step, pol))
    if run.st.waiting != "input" or n < 2 or keys.rstrip("#") != pol.more_key:
        return False
    run.st.menu_page = (run.st.menu_page + 1) % n
    offer_page(run, step)
    run.listen(step)
    return True


def keys_due(run: PolicyRun, step: CollectStep) -> bool:
    """The step has missed often enough in this language to ask for keys now."""
    n = policy(run).keys_after_misses
    if step.type == "intent" and not choices(step):
        return False  # a voice-only question (no keys at all): nothing to switch to
    return (n is not None and step.type in KEYABLE and not step.protective and run.st.waiting != "reenter"
            and run.st.no_input + run.st.no_match >= n)


def ask_keys(run: PolicyRun, step: CollectStep) -> None:
    """Switch the step to keys: say which key does what, then wait for the caller."""
    st = run.st
    st.keys_only, st.waiting, st.pending = True, "input", None
    if step.type == "intent":
        say_builtin(run, "use_keys")
        offer_page(run, step)
    elif step.type == "yes_no":
        say_builtin(run, "use_keys")
        run.say(step.prompt, _key(run, step, "prompt"))
        own = step.prompt.get(st.language)
        if own is None or not _KEY_IN_TEXT.search(own.text):
            say_builtin(run, "yes_no_keys")
    else:
        say_builtin(run, "value_keys")
        run.say(step.prompt, _key(run, step, "prompt"))
    run.listen(step)


def voice_refused(run: PolicyRun, step: CollectStep) -> bool:
    """A PIN or code spoken where the language's policy takes secrets by keys only
    (the recognizer's guess would go to the bank and count toward its lockout)."""
    return step.secret and run.st.by_voice and run.st.waiting == "input" and not policy(run).secrets_by_voice


def read_back_due(run: PolicyRun, step: CollectStep, value: Any) -> bool:
    return (policy(run).read_back and run.st.by_voice and step.type == "intent" and step.confirm is None
            and isinstance(value, str) and value not in LANG_VALUES
            and read_back_text(step, value, run.st.language, run.describe) is not None)


def read_back(run: PolicyRun, step: CollectStep, value: str) -> None:
    """你講的是查餘額，著請揤1，毋著請揤2: the choice waits for key 1 or a yes."""
    text = read_back_text(step, value, run.st.language, run.describe)
    assert text is not None  # read_back_due checked it
    run.st.pending = value
    _say(run, text, _key(run, step, f"read_back.{value}"))
    run.listen(step, confirm=True)


# ------------------------------------------------------------ for people
@dataclass(frozen=True)
class GeneratedPrompt:
    flow: str
    step_index: int | None  # None: a built-in prompt of the dialog
    key: str
    text: str

    def recording(self, language: str) -> str:
        return f"prompts/{language}/{self.key}.wav"


def generated_prompts(fs: FlowSet, language: str, describe: Describe | None) -> Iterator[GeneratedPrompt]:
    """Every prompt this policy can say in ``language``: the built-ins, each page of
    each long or keyed menu, each read-back."""
    used = False
    for flow_id in sorted(fs.flows):
        flow = fs.flows[flow_id]
        pol = flow.defaults.policy_for(language)
        if language not in flow.languages:
            continue
        for i, step in enumerate(flow.steps):
            if not isinstance(step, CollectStep) or step.type not in KEYABLE:
                continue
            keys = pol.keys_after_misses is not None and not step.protective
            keys &= step.type != "intent" or bool(choices(step))
            used |= keys
            n = len(pages(step, pol))
            if step.type == "intent" and (n > 1 or keys):
                for page in range(n):
                    yield GeneratedPrompt(flow_id, i, f"{flow_id}.{step.id}.keys{page + 1}",
                                          page_text(step, pol, page, language, describe))
            if pol.read_back and step.type == "intent" and step.confirm is None:
                for value in dict.fromkeys([*step.intents, *(v for _, v in choices(step))]):
                    text = read_back_text(step, value, language, describe) if value not in LANG_VALUES else None
                    if text:
                        yield GeneratedPrompt(flow_id, i, f"{flow_id}.{step.id}.read_back.{value}", text)
    if used:
        for name, prompt in BUILTIN.items():
            p = prompt.get(language)
            if p is not None:
                yield GeneratedPrompt("dialog", None, f"dialog.{name}", p.text)


# ------------------------------------------------------------ ivr validate
def policy_problems(flow: Flow) -> Iterator[tuple[int, tuple, str]]:
    """(step index, location under the step, message) of steps the policy cannot run."""
    for lang in flow.languages:
        pol = flow.defaults.policy_for(lang)
        generates = pol.keys_after_misses is not None or pol.menu_size is not None or pol.read_back
        for i, s in enumerate(flow.steps):
            if not isinstance(s, CollectStep) or s.type != "intent":
                continue
            where = f"step '{s.id}'"
            if pol.keys_after_misses is not None and not s.protective:
                keyed = {v for v in s.dtmf.values() if isinstance(v, str)}
                unkeyed = [(j, name) for j, name in enumerate(s.intents) if name not in keyed]
                if unkeyed and keyed:  # a menu with keys, but not for everything it offers
                    names = ", ".join(name for _, name in unkeyed)
                    yield i, ("intents", unkeyed[0][0]), (
                        f"{where}: no key (dtmf) for {names}; {lang} callers are asked for keys after "
                        f"{pol.keys_after_misses} miss(es)")
            if generates:
                for k, v in choices(s):
                    known = v in NLU_NAMED or v in LANG_LABELS
                    own = s.labels.get(v)
                    if not known and (own is None or own.get(lang) is None):
                        yield i, ("dtmf", k), (f"{where}: no {lang} name for '{v}' "
                                               f"(add labels: {{{v}: {{{lang}: ...}}}})")
            opts = choices(s)
            if pol.menu_size and len(opts) > pol.menu_size:
                if pol.more_key in s.dtmf:
                    yield i, ("dtmf", pol.more_key), (f"{where}: key {pol.more_key} offers the next {lang} choices "
                                                      f"(policy more_key); give the choice another key")
                own_prompt = s.prompt.get(lang)
                offered = len(_KEY_IN_TEXT.findall(own_prompt.text)) if own_prompt is not None else 0
                if offered > pol.menu_size:
                    yield i, ("prompt", lang), (f"{where}: the {lang} prompt lists {offered} keys; {lang} menus offer "
                                                f"{pol.menu_size} at a time (the dialog adds them after the prompt)")
