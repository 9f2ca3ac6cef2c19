"""Questions written from one sentence's dependency parse: the answer span becomes a question word.

A 270M base model asked to write a question for a given answer mostly ignores the answer ("What is the
name of the film?"), so the embedded lab writes questions by rule, as rule-based question generation
does (Heilman and Smith, 2010): the answer's phrase is replaced by a question word that fits its kind,
the auxiliary moves in front of the subject (or "does"/"did" is added), and a pronoun subject becomes the
page's own name. Only the clause's core is kept (subject, verb, objects and the phrase that held the
answer), so the question does not repeat its sentence word for word. A sentence these rules cannot turn
gives no question; the test-set builder counts it and draws another.
"""

import re

PRONOUNS = frozenset({"he", "she", "it", "they", "this"})
POSSESSIVES = frozenset({"its", "his", "her", "their"})
KEPT_DEPENDENCIES = frozenset({"dobj", "attr", "acomp", "oprd", "prep", "agent", "dative", "xcomp", "neg", "prt"})
"""The predicate's parts a question keeps; clauses hung off the side (advcl, conj, appos, parataxis) are dropped."""
CARRIES_PREPOSITION = ("when", "where", "in what", "how long")
"""Question words that hold their preposition ("when" is "in/on/at what time"): "When did X open?", not
"When did X open in?"."""
MODIFIER_ROLES = {
    "CARDINAL": frozenset({"nummod"}), "QUANTITY": frozenset({"nummod"}), "NORP": frozenset({"amod"}),
    "CODE": frozenset({"compound", "nmod", "amod", "appos"}),
}
"""The answers a question may ask about through the noun they modify: "how many <nouns>", "what
nationality", "which option" (for "the `--verbose` option")."""
SIDE_CLAUSES = frozenset({"relcl", "appos", "advcl", "parataxis"})
MIN_QUESTION_WORDS = 5
MAX_QUESTION_WORDS = 20
_DISAMBIGUATOR = re.compile(r"\s*\([^()]*\)\s*$")


def question_word(label: str, answer: str, head_noun: str = "", counted: str = "") -> str:
    """The question word for an answer of this kind; "which <noun>" when the answer names a noun's instance,
    "how many <nouns>" when it counts them (a number that counts nothing, a score or a code, gets "what")."""
    answer = answer.strip("` ")
    if label == "CODE":
        return f"which {head_noun}" if head_noun else f"which {code_kind(answer)}"
    if label == "PERSON":
        return "who"
    if label in ("DATE", "TIME"):
        if re.search(r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)$", answer.strip()):
            return "how long"
        return "in what year" if re.fullmatch(r"\d{4}", answer.strip()) else "when"
    if label in ("GPE", "LOC", "FAC"):
        return "where"
    if label in ("CARDINAL", "QUANTITY"):
        return f"how many {counted}" if counted else "what"
    if label in ("MONEY", "PERCENT"):
        return "how much"
    if label == "NORP":
        return "what nationality"
    return f"which {head_noun}" if head_noun else "what"


def page_name(title: str) -> str:
    """A page title as a sentence names its subject: without a trailing "(disambiguator)"."""
    return _DISAMBIGUATOR.sub("", title).strip()


def original(span) -> str:
    """The span's (or token's) words as the source has them: a doc may have been parsed with its inline code
    masked (`lab.testsets.drafting.facts_in`), at the same character positions."""
    doc = span.doc
    text = doc.user_data.get("original", doc.text)
    start = span.idx if hasattr(span, "idx") else span.start_char
    return text[start : start + len(span.text)]


def code_kind(answer: str) -> str:
    """What a code answer is, by its form alone: the noun a "which …" question about it uses."""
    if answer.startswith("-"):
        return "option"
    if "=" in answer:
        return "setting"
    if re.fullmatch(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+", answer):
        return "environment variable"
    if answer.endswith(")") or "." in answer:
        return "function"
    return "name"


def wh_question(sentence, answer, label: str, page_title: str) -> str | None:
    """A question the sentence answers with `answer` (a spaCy span inside `sentence`), or None."""
    root = sentence.root
    holder = _holder(answer, root, label)
    if root.pos_ not in ("VERB", "AUX") or holder is None:
        return None
    subject = _subject(root)
    word = question_word(label, original(answer), _named_noun(answer), _counted_noun(answer))
    if subject is not None and holder.i == subject.i:
        return _finish([word, *_auxiliaries(root), root.text, *_predicate(root, skip=None)])
    subject_text = "you" if _imperative(root) else _subject_text(subject, page_title)
    if subject_text is None:
        return None
    before, after = _inverted(root)
    keeps_preposition = holder.dep_ in ("prep", "agent") and not word.startswith(CARRIES_PREPOSITION)
    preposition = holder.text if keeps_preposition else ""
    return _finish([word, *before, subject_text, *after, *_predicate(root, skip=holder), preposition])


def yes_no_question(sentence, answer, label: str, replacement: str, page_title: str) -> str | None:
    """The sentence's clause as a yes/no question, its answer span replaced by `replacement` (a "no" question
    when that names something else, a "yes" one when it is the answer itself), or None."""
    root = sentence.root
    subject = _subject(root)
    holder = _holder(answer, root, label)
    if root.pos_ not in ("VERB", "AUX") or subject is None or holder is None or holder.i == subject.i:
        return None
    subject_text = _subject_text(subject, page_title)
    if subject_text is None:
        return None
    before, after = _inverted(root)
    predicate = [_replaced(holder, answer, replacement) if part.i == holder.i else _text(part)
                 for part in _predicate_parts(root, keep=holder)]
    return _finish([*before, subject_text, *after, *predicate])


def relative_clause(sentence, answer, label: str, page_title: str) -> str | None:
    """What the sentence says of `answer`, as a clause that can follow a noun: "that Ungod is the debut album
    by", "that founded Local H". A bridge question names its middle entity this way."""
    root = sentence.root
    holder = _holder(answer, root, label)
    if root.pos_ not in ("VERB", "AUX") or holder is None or holder.right_edge.i != answer.end - 1:
        return None
    subject = _subject(root)
    if subject is not None and holder.i == subject.i:
        words = ["that", *_auxiliaries(root), root.text, *_predicate(root, skip=None)]
    else:
        subject_text = _subject_text(subject, page_title)
        if subject_text is None or subject is None:
            return None
        preposition = holder.text if holder.dep_ in ("prep", "agent") else ""
        words = ["that", subject_text, *_auxiliaries(root), root.text, *_predicate(root, skip=holder), preposition]
    text = _tidy(" ".join(w for w in words if w))
    return text if len(text.split()) <= MAX_QUESTION_WORDS // 2 else None


def _subject(root):
    return next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None)


def _holder(answer, root, label: str):
    """The verb's child the question word replaces: the answer itself, the object of a preposition, or the
    noun the answer counts or names an instance of (a code name, a nationality). An answer deeper in its
    phrase (inside a relative clause, a list, a possessive) or only part of a name has no clean question
    word, so there is none."""
    top = answer.root
    if top.i == root.i or top.dep_ == "poss" or any(
        child.dep_ in ("compound", "flat") and not answer.start <= child.i < answer.end for child in top.children
    ):
        return None
    head = top.head
    if (top.dep_ in MODIFIER_ROLES.get(label, ()) or top.dep_ == "appos") and head.pos_ == "NOUN":
        top, head = head, head.head
    elif top.dep_ in ("compound", "amod", "nmod", "nummod"):
        return None
    if top.head.i == root.i:
        holder = top
    elif top.dep_ == "pobj" and head.dep_ in ("prep", "agent") and head.head.i == root.i:
        holder = head
    else:
        return None
    return holder if holder.left_edge.i <= answer.start and answer.end - 1 <= holder.right_edge.i else None


def _counted_noun(answer) -> str:
    head = answer.root.head
    return head.text if answer.root.dep_ == "nummod" and head.tag_ == "NNS" else ""


def _named_noun(answer) -> str:
    """For "the `--verbose` option", the noun ("option") the answer names an instance of; '' otherwise."""
    head = answer.root.head
    if answer.root.dep_ in ("compound", "nmod", "amod", "appos") and head.pos_ == "NOUN" and head.i >= answer.end:
        return head.lemma_.lower()
    return ""


def _auxiliaries(root) -> list[str]:
    return [c.text for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i]


def _inverted(root) -> tuple[list[str], list[str]]:
    """The verb's words before and after the subject in a question: "did" … "open", "was" … "designed",
    "is" … (a bare "be" moves whole), "has" … "been founded"."""
    auxiliaries = _auxiliaries(root)
    if root.lemma_ == "be" and not auxiliaries:
        return [root.text], []
    if auxiliaries:
        return auxiliaries[:1], [*auxiliaries[1:], root.text]
    return [_do_support(root)], [root.lemma_]


def _do_support(root) -> str:
    return {"VBD": "did", "VBZ": "does"}.get(root.tag_, "do")


def _subject_text(subject, page_title: str) -> str | None:
    """The subject as the question names it. A pronoun or a bare "the <noun>" ("the team", "the album") is
    the page's own subject, and "its"/"his"/"their" become the page's name with "'s": the one coreference
    rule a page-per-topic corpus rewards. An imperative ("Use X to …") is asked of "you"."""
    if subject is None:
        return None
    name = page_name(page_title)
    if subject.lower_ in PRONOUNS or _bare_definite(subject):
        return name or None
    text = _text(subject)
    first = subject.left_edge
    if first.lower_ in POSSESSIVES and name:
        text = f"{name}'s{text[len(first.text):]}"
    elif first.pos_ == "DET" or not any(token.pos_ == "PROPN" for token in subject.subtree):
        text = text[0].lower() + text[1:]
    return text if len(text.split()) <= 8 else None


def _imperative(root) -> bool:
    """"Use X to …": a base-form verb opening its sentence with no subject."""
    return _subject(root) is None and root.tag_ == "VB" and root.i == root.sent.start


def _bare_definite(subject) -> bool:
    words = list(subject.subtree)
    return len(words) == 2 and words[0].lower_ == "the" and words[1].pos_ == "NOUN"


def _predicate_parts(root, keep):
    return [c for c in root.children if c.i > root.i and (keep is not None and c.i == keep.i or c.dep_ in KEPT_DEPENDENCIES)]


def _predicate(root, skip) -> list[str]:
    return [_text(part) for part in _predicate_parts(root, keep=None) if skip is None or part.i != skip.i]


def _replaced(holder, answer, replacement: str) -> str:
    doc = holder.doc
    before = original(doc[holder.left_edge.i : answer.start]) if holder.left_edge.i < answer.start else ""
    after = original(doc[answer.end : holder.right_edge.i + 1]) if answer.end <= holder.right_edge.i else ""
    return " ".join(part for part in (before, replacement, after) if part)


def _text(token) -> str:
    """The token's phrase without what hangs off its side: relative and adverbial clauses, appositions and
    anything in brackets (a question repeating them only copies its sentence)."""
    doc = token.doc
    dropped: set[int] = set()
    for inner in token.subtree:
        if inner.i != token.i and inner.dep_ in SIDE_CLAUSES:
            dropped.update(t.i for t in inner.subtree)
    depth = 0
    kept = []
    for inner in doc[token.left_edge.i : token.right_edge.i + 1]:
        depth += inner.text == "("
        if depth == 0 and inner.i not in dropped:
            kept.append(original(inner) + inner.whitespace_)
        depth -= inner.text == ")" and depth > 0
    return "".join(kept).strip(" ,;:")


def _tidy(text: str) -> str:
    """One space between words, none before punctuation, no comma left empty by a dropped phrase."""
    text = re.sub(r"\s+([,?.;:)])", r"\1", " ".join(text.split()))
    return re.sub(r"(,\s*)+,", ",", text).rstrip(" .,;:")


def _finish(words: list[str]) -> str | None:
    """The question, or None when it is too short to name what it asks about, too long, or cut through
    markup (an odd backtick, a table cell)."""
    text = _tidy(" ".join(w for w in words if w))
    if not MIN_QUESTION_WORDS <= len(text.split()) <= MAX_QUESTION_WORDS or text.count("`") % 2 or "|" in text:
        return None
    return text[0].upper() + text[1:] + "?"
