"""Intent classifier: multinomial logistic regression over character n-grams
and toneless pinyin n-grams, trained with numpy at load.

Why this and not fuzzy string matching against the examples: bench/nlu.py
measures both on the held-out set (308 utterances, none trained on). Nearest
example by rapidfuzz WRatio on pinyin strings scored 0.70; this model 0.98.
Fuzzy matching is thrown off by the words around the key phrase (我想要…,
麻煩幫我…) and by long Taiwanese sentences, and cannot tell which characters
matter. The linear model learns that 餘額 / "yu e" carries check_balance
whatever surrounds it, and because every example is also trained as a
sound-only copy, the pinyin features alone can carry an ASR homophone
(於額, 掛時, 充設) to the right intent. An ``out_of_scope`` class trained on
chit-chat and bare yes/no answers gives no-match a real home instead of
relying on the threshold alone (threshold 0.4: sweep in bench/results/nlu.json).
Training ~600 samples takes a fraction of a second, so the model is trained
when ``Nlu.load`` runs: no weights file to go stale against the YAML."""
from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .phonetic import PinyinTable

OUT_OF_SCOPE = "out_of_scope"
_LATIN = re.compile(r"[a-z]+|\d+")


class Featurizer:
    def __init__(self, pinyin: PinyinTable) -> None:
        self._py = pinyin

    def features(self, text: str) -> list[str]:
        """Feature names of a cleaned utterance (see Normalizer.clean)."""
        feats: list[str] = []
        latin = _LATIN.findall(text)
        feats.extend("w:" + w if not w.isdigit() else "d:" + str(min(len(w), 5)) for w in latin)
        han = [c for c in _LATIN.sub(" ", text) if not c.isspace()]
        chars = ["^"] + han + ["$"]
        feats.extend("c:" + c for c in han)
        feats.extend("c2:" + a + b for a, b in itertools.pairwise(chars))
        readings = [("^",)] + [self._py.readings(c) for c in han] + [("$",)]
        for r in readings[1:-1]:
            feats.extend("p:" + s for s in r)
        for ra, rb in itertools.pairwise(readings):
            feats.extend(f"p2:{a}_{b}" for a in ra for b in rb)
        return feats


@dataclass(frozen=True)
class Model:
    labels: tuple[str, ...]
    vocab: dict[str, int]
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray     # (classes,)

    def logits(self, feats: Sequence[str]) -> np.ndarray:
        idx = [self.vocab[f] for f in feats if f in self.vocab]
        if not idx:
            return self.bias.copy()
        return self.weights[idx].sum(axis=0) / np.sqrt(len(feats)) + self.bias


def train(samples: Sequence[tuple[list[str], str]], l2: float = 1e-4, iters: int = 400,
          rate: float = 0.05) -> Model:
    """Fit softmax regression by full-batch Adam on a sparse design matrix.
    Deterministic: zero start, fixed data order, fixed step count."""
    labels = tuple(sorted({y for _, y in samples}))
    vocab: dict[str, int] = {}
    for feats, _ in samples:
        for f in feats:
            vocab.setdefault(f, len(vocab))
    n, d, k = len(samples), len(vocab), len(labels)
    rows, cols, vals = [], [], []
    y = np.zeros((n, k))
    for i, (feats, label) in enumerate(samples):
        scale = 1.0 / np.sqrt(max(len(feats), 1))
        for f in feats:
            rows.append(i)
            cols.append(vocab[f])
            vals.append(scale)
        y[i, labels.index(label)] = 1.0
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(n, d))  # duplicates add up
    xt = x.T.tocsr()
    w = np.zeros((d, k))
    b = np.zeros(k)
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, iters + 1):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) / n
        gw = xt @ g + 2 * l2 * w
        gb = g.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * gw
        v_w = beta2 * v_w + (1 - beta2) * gw * gw
        m_b = beta1 * m_b + (1 - beta1) * gb
        v_b = beta2 * v_b + (1 - beta2) * gb * gb
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
        w -= rate * (m_w / c1) / (np.sqrt(v_w / c2) + eps)
        b -= rate * (m_b / c1) / (np.sqrt(v_b / c2) + eps)
    return Model(labels, vocab, w, b)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()
