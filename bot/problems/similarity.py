"""Which tickets say the same thing in other words: concepts and letter triples, compared; pure.

Why this method: the tickets are short, come in English and German, and the test of a group
is "the same trouble", which a shared word rarely shows ("checkout fails" and "cannot pay").
A small lexicon of the desk's concepts (bot/problems/lexicon.py) carries most of the meaning;
letter triples of the remaining words catch spelling variants and words the lexicon lacks.
It needs no model, downloads nothing, runs in microseconds per ticket, and its reasons can be
read. A multilingual embedding model would need weights from a model hub, which esmbot may
not fetch at run time; across languages the ticket's module carries the group instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.problems.lexicon import CONCEPTS, STOP_WORDS

# A concept weighs as much as this many distinct letter triples: what a text is about counts
# for more than how it is spelt. A weak stem's concept (lexicon.py) weighs as much as all of them.
CONCEPT_WEIGHT = 3.0
WEAK_WEIGHT = 1.0
_WORD = re.compile(r"[\w'-]+", re.UNICODE)
_COMPOUND_STEM = 5  # German stems this long also match inside a compound word


def _fold(text: str) -> str:
    return text.casefold().replace("ß", "ss")


_STEMS = tuple(
    sorted(
        (_fold(stem.removeprefix("~")), concept, WEAK_WEIGHT if stem[0] == "~" else CONCEPT_WEIGHT)
        for concept, stems in CONCEPTS.items()
        for stem in stems
    )
)


def weighted_concepts(text: str) -> dict[str, float]:
    """The lexicon's concepts the text names, each with the weight of its strongest word."""
    found: dict[str, float] = {}
    for word in _WORD.findall(_fold(text)):
        matched = [
            (len(stem), concept, weight)
            for stem, concept, weight in _STEMS
            if word.startswith(stem) or (len(stem) >= _COMPOUND_STEM and stem in word)
        ]
        if matched:
            # The longest stem says it best: a "cartridge" is the printer's, not a "cart".
            longest = max(length for length, _, _ in matched)
            for length, concept, weight in matched:
                if length == longest:
                    found[concept] = max(found.get(concept, 0.0), weight)
    return found


def concepts(text: str) -> frozenset[str]:
    """The lexicon's concepts the text names."""
    return frozenset(weighted_concepts(text))


Vector = dict[str, float]


def vector(text: str) -> Vector:
    """The text as weighted features: its concepts, and the letter triples of its other words."""
    features: Vector = {f"c:{concept}": w for concept, w in weighted_concepts(text).items()}
    triples: set[str] = set()
    for word in _WORD.findall(_fold(text)):
        if word in STOP_WORDS or len(word) < 3:
            continue
        padded = f" {word} "
        triples.update(padded[i : i + 3] for i in range(len(padded) - 2))
    if triples:
        # The triples together weigh 1, however long the text: a long text is not more alike.
        share = 1.0 / math.sqrt(len(triples))
        features.update((f"t:{triple}", share) for triple in triples)
    return features


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(weight * b.get(feature, 0.0) for feature, weight in a.items())
    norms = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norms if norms else 0.0


def similarity(a: str, b: str) -> float:
    """How alike two texts are, from 0 (nothing shared) to 1."""
    return cosine(vector(a), vector(b))


@dataclass
class _Group:
    members: list[Hashable] = field(default_factory=list)
    centre: Vector = field(default_factory=dict)

    def add(self, key: Hashable, features: Vector) -> None:
        self.members.append(key)
        for feature, weight in features.items():
            self.centre[feature] = self.centre.get(feature, 0.0) + weight


def group_texts(items: Iterable[tuple[Hashable, str]], *, threshold: float) -> list[list[Hashable]]:
    """Groups texts that say the same thing: each joins the group whose centre it is most like,
    if at least `threshold`, else starts its own. Groups and members keep the input's order."""
    groups: list[_Group] = []
    for key, text in items:
        features = vector(text)
        best, score = None, threshold
        for candidate in groups:
            alike = cosine(features, candidate.centre)
            if alike >= score:
                best, score = candidate, alike
        if best is None:
            best = _Group()
            groups.append(best)
        best.add(key, features)
    return [group.members for group in groups]


def best_match(
    text: str, candidates: Sequence[tuple[Hashable, str]], *, threshold: float
) -> Hashable | None:
    """The candidate most like the text, if at least `threshold` alike; else None."""
    features = vector(text)
    best, score = None, threshold
    for key, other in candidates:
        alike = cosine(features, vector(other))
        if alike >= score:
            best, score = key, alike
    return best
