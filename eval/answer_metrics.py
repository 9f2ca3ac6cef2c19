"""Answer exact match and token F1 against the gold answer, as SQuAD and HotpotQA score them.

Both compare answers after the SQuAD normalization (Rajpurkar et al., 2016, `evaluate-v1.1.py`):
lower case, drop punctuation and the articles a/an/the, collapse whitespace. F1 follows HotpotQA's
`hotpot_evaluate_v1.py`: when either side is yes/no/noanswer, only an identical answer scores.
These are not ragas metrics; ragas' ExactMatch compares raw strings.
"""

import re
import string
from collections import Counter

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)
_CLOSED_ANSWERS = {"yes", "no", "noanswer"}


def normalize_answer(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def f1_score(prediction: str, reference: str) -> float:
    predicted, gold = normalize_answer(prediction), normalize_answer(reference)
    if (predicted in _CLOSED_ANSWERS or gold in _CLOSED_ANSWERS) and predicted != gold:
        return 0.0
    common = Counter(predicted.split()) & Counter(gold.split())
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted.split())
    recall = overlap / len(gold.split())
    return 2 * precision * recall / (precision + recall)
