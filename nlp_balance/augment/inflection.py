"""English inflection against WordNet: read a word as base + inflection, and inflect a synonym the same way.

"films" reads as "film" + plural and "took" as "take" + past, through WordNet's exception lists
(``noun.exc``, ``verb.exc`` in the :class:`~.synonym_table.SynonymTable`) and suffix rules; a
synonym is then inflected to match ("movie" -> "movies"). Where the right form cannot be derived
safely (irregular verbs with two past forms) :func:`inflect` returns ``None`` and the synonym is
skipped.
"""

from __future__ import annotations

from .synonym_table import SynonymTable

__all__ = ["NOUN_RULES", "VERB_RULES", "inflect", "word_analyses"]

_VOWELS = frozenset("aeiou")
# Verbs whose past tense is spelled like the base form; WordNet's verb.exc does not list them.
_INVARIANT_PAST = frozenset(
    "bet bid broadcast burst cast cost cut fit forecast hit hurt let put quit read rid set shed shut "
    "slit split spread thrust upset wet".split()
)
#: Suffix rules that read a plural noun as its lemma: ``(suffix, replacement)``, first match wins.
NOUN_RULES = (("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
              ("ies", "y"), ("s", ""))
#: Suffix rules that read an inflected verb as its lemma: ``(suffix, replacement, inflection)``.
VERB_RULES = (("ies", "y", "3sg"), ("es", "e", "3sg"), ("es", "", "3sg"), ("s", "", "3sg"),
              ("ed", "e", "ed"), ("ed", "", "ed"), ("ing", "e", "ing"), ("ing", "", "ing"))
_THIRD_PERSON = {"be": "is", "have": "has", "do": "does", "go": "goes"}


def word_analyses(word: str, pos: str, table: SynonymTable) -> list[tuple[str, str | None]]:
    """``(base, inflection)`` readings of a lower-case ``word`` as ``pos`` (``n`` or ``v``).

    Inflections: ``None`` (the word is a lemma), ``"pl"`` (plural noun), ``"3sg"``, ``"ed"``, ``"ing"``.
    Only bases that have synonyms in ``table`` are returned.
    """
    known = table.synonyms[pos]
    if word in known:
        return [(word, None)]
    out: list[tuple[str, str | None]] = []
    for base in table.exceptions.get(pos, {}).get(word, ()):
        if base in known:
            if pos == "n":
                out.append((base, "pl"))
            elif word.endswith("ing"):
                out.append((base, "ing"))
            elif _THIRD_PERSON.get(base) == word:
                out.append((base, "3sg"))
            else:
                out.append((base, "ed"))
    if out:
        return out
    if pos == "n":
        for suffix, repl in NOUN_RULES:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = word[: -len(suffix)] + repl
                if base in known and not word.endswith("ss"):
                    out.append((base, "pl"))
                    break
    elif pos == "v":
        seen: set[str] = set()
        for suffix, repl, infl in VERB_RULES:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = word[: -len(suffix)] + repl
                if base in known and base not in seen and not word.endswith("ss"):
                    seen.add(base)
                    out.append((base, infl))
    return out


def _regular_s(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in _VOWELS:
        return word[:-1] + "ies"
    return word + "s"


def _verb_form(head: str, infl: str, table: SynonymTable) -> str | None:
    forms = table.irregular.get("v", {}).get(head, ())
    if infl == "3sg":
        return _THIRD_PERSON.get(head) or _regular_s(head)
    if infl == "ing":
        for f in forms:
            if f.endswith("ing"):
                return f
        if head.endswith("ie"):
            return head[:-2] + "ying"
        if head.endswith("e") and not head.endswith(("ee", "oe", "ye")) and len(head) > 2:
            return head[:-1] + "ing"
        return head + "ing"
    # past tense / participle: must be unambiguous
    past = sorted({f for f in forms if not f.endswith("ing") and f != _THIRD_PERSON.get(head)})
    if head in _THIRD_PERSON:
        return None
    if len(past) == 1 and not past[0].endswith("en"):
        return past[0]  # "made", "said"; a lone "-en" form ("molten") is a participle, the past is unknown
    if past:
        return None  # "saw"/"seen": which one the text needs is unknown, so skip this synonym
    if head in _INVARIANT_PAST:
        return head
    if head.endswith("e"):
        return head + "d"
    if len(head) > 1 and head.endswith("y") and head[-2] not in _VOWELS:
        return head[:-1] + "ied"
    return head + "ed"


def inflect(synonym: str, pos: str, inflection: str | None, table: SynonymTable) -> str | None:
    """Inflect a synonym (possibly multi-word) like the word it replaces; ``None`` if that is unsafe.

    Nouns inflect their last word ("motion picture" -> "motion pictures"), verbs their first
    ("take off" -> "took off").
    """
    if inflection is None:
        return synonym
    words = synonym.split(" ")
    if pos == "n":
        last = words[-1]
        irregular = table.irregular.get("n", {}).get(last)
        words[-1] = irregular[0] if irregular else _regular_s(last)
        return " ".join(words)
    if pos == "v":
        form = _verb_form(words[0], inflection, table)
        if form is None:
            return None
        words[0] = form
        return " ".join(words)
    return None
