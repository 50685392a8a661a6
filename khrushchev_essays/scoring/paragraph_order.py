"""Whether the sentences inside each paragraph stand in the order their writer gave them.

Shuffling the sentences of each paragraph keeps every paragraph on its factor, so the figures
the order model reads (neighbours that share factors and words, claims at the ends) stay as
they were. What changes is the paragraph's own shape: its point no longer comes first, "This
meant..." no longer follows what it points back to, "For example" no longer follows the claim
it illustrates, and the link to the question no longer closes it.

A small linear model, fitted on real paragraphs against permutations of their own sentences
(scripts/train_paragraph_order.py, plain JSON in khrushchev_essays/models/paragraph_order.json),
scores an order of a paragraph's sentences from:

- where each kind of sentence stands (its cues weighted by how early it comes);
- what the first and the last sentence are like;
- what each sentence does with the one before it (points back to a sentence it shares words
  with, or to one it shares nothing with; years running forward; a claim after a dated detail).

Each paragraph of three or more sentences is then compared with the other orders its own
sentences could have had: its `share` is the fraction of them (all of them up to five sentences,
a fixed sample of 120 above) that score lower than the order as written. A shuffled paragraph's
share is as likely to be anything from 0 to 1. A writer's mostly beats most of them, but not
always (a paragraph written in an order of its own, or one of a writer who starts a new
paragraph every few sentences), so it is taken to come from a mixture: with weight
GENUINE_WEIGHT from a distribution of density GENUINE_SHAPE * share ** (GENUINE_SHAPE - 1),
otherwise from anywhere. The evidence is the log-likelihood ratio of the two readings summed over
the paragraphs: positive when they read as written, about -0.2 a paragraph when shuffled, and
no single odd paragraph can take more than log(1 - GENUINE_WEIGHT) = -1.2 from it.

claims.py judges the essay out of order only when enough paragraphs were judged and the evidence
is under the rubric's line; the paragraph shares are reported, as what the judgement rests on.

The same model has weights for a whole essay read as one run of sentences (role "essay", which
also reads how near either end each kind of sentence stands): claims.py reads every essay so,
paragraphs or not, and an essay whose order beats too few of the other orders of its sentences is
read as shuffled across the essay.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from ..resources import data

MODEL_FILE = data("models", "paragraph_order.json")

# Sentence cues beyond claims.PRECEDENCE_FEATURES' traits, read from a sentence's opening words.
_EXAMPLE = re.compile(r"(for example|for instance|e\.g\.|an example|one example|a good example|to illustrate|such as)\b")
_TIME = re.compile(r"(in|by|from|after|before|during|until|between|when|at|on)\s+(the\s+)?(\w+\s+)?(1[89]\d\d)\b")
_SEQUENCE = re.compile(r"(first(ly)?|second(ly)?|third(ly)?|finally|lastly|next|later|afterwards|eventually|"
                       r"at first|to begin|initially)\b")
_CONSEQUENCE = re.compile(r"(as a result|this meant|this led|because of this|this shows|this suggests|this showed|"
                          r"this demonstrates|this was significant|this is significant|which meant|this made|"
                          r"this is why|that is why)\b")
OPENING_CUES = ("opens_example", "opens_time", "opens_sequence", "opens_consequence")
# The traits claims.sentence_traits gives (its PRECEDENCE_FEATURES but the pair's `years_later`),
# in its order; the positions the pair figures below read.
TRAITS = ("dated", "figure", "topic", "opens_back", "opens_contrast", "opens_result", "opens_additive",
          "outcome", "claim", "concludes", "causal", "counter", "length", "focus", "narrative", "evaluative")
# ...and one read from the paragraph: how much a sentence shares with the others of its paragraph
# (a topic sentence and a closing link share the paragraph's words; a detail shares fewer).
CUES = TRAITS + OPENING_CUES + ("central",)
_DATED, _TOPIC, _CONTRAST, _RESULT, _CLAIM = (CUES.index(k) for k in ("dated", "topic", "opens_contrast",
                                                                        "opens_result", "claim"))
_EX, _CONSEQ = CUES.index("opens_example"), CUES.index("opens_consequence")
PAIR_FEATURES = ("back_shared", "back_unshared", "overlap", "factor_shared", "years_forward",
                 "claim_after_dated", "dated_after_topic", "contrast_after_claim", "result_after_dated",
                 "example_after_claim", "consequence_after_dated", "example_after_example")
ORDER_FEATURES = tuple([f"early_{k}" for k in CUES] + [f"ends_{k}" for k in CUES] + [f"first_{k}" for k in CUES]
                       + [f"last_{k}" for k in CUES] + [f"pair_{k}" for k in PAIR_FEATURES])
# An introduction, a body paragraph and a conclusion each have their own shape (a scene set with a
# date before the thesis; a point before its evidence; "In conclusion" before the verdict): each
# has its own weights.
ROLES = ("intro", "body", "conclusion", "essay")
FEATURES = tuple(f"{role}:{k}" for role in ROLES for k in ORDER_FEATURES)
MIN_SENTENCES = 3  # a paragraph is judged from this many sentences
GENUINE_SHAPE, GENUINE_WEIGHT = 3.0, 0.7  # how a writer's paragraphs' shares are spread (see above)
SAMPLE = 120  # orders compared with, for a paragraph of more than ENUMERATE sentences
ENUMERATE = 5


def opening_cues(head: str) -> list[float]:
    """OPENING_CUES of a sentence from its opening (claims._head: from its first letter, read as meant)."""
    h = head.lower()
    return [float(bool(p.match(h))) for p in (_EXAMPLE, _TIME, _SEQUENCE, _CONSEQUENCE)]


@dataclass(frozen=True)
class Sentences:
    """What the model reads of the sentences of the essay (numpy arrays, one row per sentence).

    `cues`: CUES per sentence; `back`: whether it opens by pointing back ("This", "However");
    `common` / `sizes`: content words (and factors) shared by two sentences / each one's count;
    `factors`: a factor in common; `years`: first and last year named (0, 0 for none)."""

    cues: object
    back: object
    common: object
    sizes: object
    factors: object
    years: object

    def paragraph_cues(self, members: list[int]):
        """CUES of the paragraph's sentences: their own cues and how central each is to it."""
        return self._cues(self._block(members), len(members))

    def _block(self, members: list[int]):
        """(rows, words shared by each two of them, the smaller count of each two, their overlap):
        what both `paragraph_cues` and `pairs` read, worked out once when both are asked."""
        import numpy as np

        at = np.array(members, dtype=np.intp)
        common = self.common[np.ix_(at, at)]
        size = self.sizes[at]
        smaller = np.minimum.outer(size, size)
        overlap = np.where(smaller > 0, common / np.maximum(smaller, 1), 0.0)
        return at, common, smaller, overlap

    def _cues(self, block, n: int):
        import numpy as np

        at, _common, _smaller, overlap = block
        overlap = overlap.copy()
        np.fill_diagonal(overlap, 0.0)
        central = overlap.sum(axis=1) / max(1, n - 1)
        return np.hstack([self.cues[at], central[:, None]])

    def pairs(self, members: list[int], cues=None):
        """PAIR_FEATURES for every ordered pair (a, b) of the paragraph `members`, b after a:
        an array of shape (n, n, len(PAIR_FEATURES)). (`cues`: the paragraph's, when read.)"""
        block = self._block(members)
        return self._pairs(block, self._cues(block, len(members)) if cues is None else cues)

    @cached_property
    def _essay_overlap(self):
        """The overlap of every two sentences of the essay (as `_block` works it out for a
        paragraph): a paragraph's is a block of it, the same figures element by element."""
        import numpy as np

        smaller = np.minimum.outer(self.sizes, self.sizes)
        return np.where(smaller > 0, self.common / np.maximum(smaller, 1), 0.0)

    @cached_property
    def _essay_pairs(self):
        """PAIR_FEATURES of every ordered pair of the essay's sentences, worked out once: each is
        read from the two sentences alone (their shared words, factors, years, openings and cues
        other than `central`), so a paragraph's pairs are a block of it, the same figures. (Worked
        out per paragraph, a dozen arrays for each cost most of the model's time.)"""
        import numpy as np

        at = np.arange(len(self.sizes), dtype=np.intp)
        # (The cues' last column, `central`, is the paragraph's; the pair figures never read it.)
        return self._pairs((at, self.common, None, self._essay_overlap), self.cues)

    def judged_cues(self, members: list[int]):
        """`_cues` of the sentences at rows `members` (a paragraph), from the essay's overlap."""
        import numpy as np

        run = _run_of(members)
        overlap = self._essay_overlap[run, run].copy() if run else self._essay_overlap[np.ix_(members, members)]
        np.fill_diagonal(overlap, 0.0)
        central = overlap.sum(axis=1) / max(1, len(members) - 1)
        return np.hstack([self.cues[run or members], central[:, None]])

    def judged_pairs(self, members: list[int]):
        """`_pairs` of the sentences at rows `members`: a block of `_essay_pairs` (a copy, laid out
        as `_pairs` lays its array out)."""
        import numpy as np

        run = _run_of(members)
        return np.ascontiguousarray(self._essay_pairs[run, run]) if run else self._essay_pairs[np.ix_(members, members)]

    def _pairs(self, block, c):
        import numpy as np

        at, common, smaller, overlap = block
        shared = common > 0
        back = self.back[at][None, :]  # b's opening, by column
        ya, yb = self.years[at][:, None, 1], self.years[at][None, :, 0]
        dated = (ya > 0) & (yb > 0) & (yb != ya)
        forward = np.where(dated, np.where(yb > ya, 1.0, -1.0), 0.0)
        col = (lambda k: c[None, :, k])  # b's cue
        row = (lambda k: c[:, None, k])  # a's cue
        return np.stack([
            (back & shared).astype(float), (back & ~shared).astype(float),
            overlap,
            self.factors[np.ix_(at, at)].astype(float), forward,
            col(_CLAIM) * row(_DATED), col(_DATED) * row(_TOPIC), col(_CONTRAST) * row(_CLAIM),
            col(_RESULT) * row(_DATED), col(_EX) * row(_CLAIM), col(_CONSEQ) * row(_DATED), col(_EX) * row(_EX),
        ], axis=-1)


def _run_of(members: list[int]) -> slice | None:
    """The rows as a slice when they are a run (a paragraph's sentences are: consecutive rows), else None."""
    start = members[0] if members else 0
    return slice(start, start + len(members)) if members == list(range(start, start + len(members))) else None


def sequence_features(sents: Sentences, members: list[int], order, role: str = "body") -> object:
    """FEATURES of one order of a paragraph's sentences (`order`: positions into `members`);
    what the model is fitted on (training) and what `score_orders` computes for many at once."""
    import numpy as np

    n = len(members)
    pos = np.array(order, dtype=np.intp)
    c = sents.paragraph_cues(members)[pos]
    weight, ends = _position_weights(n)
    pairs = sents.pairs(members)
    adj = pairs[pos[:-1], pos[1:]].mean(axis=0)
    # (How near an end each kind of sentence stands is read for a whole essay only: inside a
    # paragraph, where it stands is its first, its last and how early.)
    near = (c * ends[:, None]).sum(axis=0) if role == "essay" else np.zeros(len(CUES))
    own = np.concatenate([(c * weight[:, None]).sum(axis=0), near, c[0], c[-1], adj])
    out = np.zeros(len(FEATURES))
    at = ROLES.index(role) * len(ORDER_FEATURES)
    out[at:at + len(own)] = own
    return out


@lru_cache(maxsize=64)
def _position_weights(n: int):
    """How early each of n places stands (+1/n first to -1/n last) and how near an end it is
    (centred: the ends above 0, the middle below)."""
    import numpy as np

    early = (n - 1 - 2 * np.arange(n)) / (n - 1)
    near = np.abs(early)
    return early / n, (near - near.mean()) / n


@lru_cache(maxsize=32)
def orders(n: int):
    """The orders a paragraph of n sentences is compared with: every one up to ENUMERATE
    sentences, else a sample of SAMPLE drawn with a fixed seed (the same for every essay)."""
    import numpy as np

    if n <= ENUMERATE:
        return np.array(list(itertools.permutations(range(n))), dtype=np.intp)
    rng = np.random.default_rng(1000 + n)
    return np.array([rng.permutation(n) for _ in range(SAMPLE)], dtype=np.intp)


@lru_cache(maxsize=32)
def orders_from_first(n: int):
    """The orders of a paragraph of n sentences that keep its first sentence first."""
    import numpy as np

    rest = orders(n - 1) + 1
    return np.hstack([np.zeros((len(rest), 1), dtype=np.intp), rest])


@lru_cache(maxsize=64)
def _written_then(n: int, first_kept: bool):
    """The order as written (0, 1, ... n-1), then the orders it is compared with
    (`orders_from_first` when the first sentence stays first, else `orders`), as one array kept
    per n. Read only."""
    import numpy as np

    perms = orders_from_first(n) if first_kept else orders(n)
    out = np.vstack([np.arange(n, dtype=np.intp)[None, :], perms])
    out.flags.writeable = False
    return out


@lru_cache(maxsize=64)
def _written_steps(n: int, first_kept: bool):
    """For each order of `_written_then(n, first_kept)`, where each sentence and the next stand in
    an n x n matrix read flat (row * n + column): `m.ravel().take(steps)` is `m[perms[:, :-1],
    perms[:, 1:]]`, without the fancy indexing. Read only."""
    perms = _written_then(n, first_kept)
    steps = perms[:, :-1] * n + perms[:, 1:]
    steps.flags.writeable = False
    return steps


CONTINUES = tuple(CUES.index(k) for k in ("opens_contrast", "opens_result", "opens_additive", "opens_consequence"))


@dataclass(frozen=True)
class Judgement:
    """The paragraphs' order as judged: each judged paragraph's share of the orders beaten, in the
    essay's order, and the evidence they give that the order is the writer's."""

    shares: tuple[tuple[int, float], ...]  # (paragraph number, share)
    evidence: float  # the log-likelihood ratio: writer's order against shuffled


class ParagraphOrderModel:
    """Weights over FEATURES (plain JSON): an order's score is their dot product with its features."""

    def __init__(self, weights: dict[str, float], meta: dict | None = None):
        self.weights = weights
        self.meta = meta or {}
        self._by_role: dict[str, tuple] = {}

    def _role_weights(self, role: str) -> tuple:
        """(early, ends, first, last, pair) weight vectors of a role, read from `weights` once."""
        if role not in self._by_role:
            import numpy as np

            w = np.array([self.weights.get(f"{role}:{k}", 0.0) for k in ORDER_FEATURES], dtype=float)
            k = len(CUES)
            self._by_role[role] = (w[:k], w[k:2 * k], w[2 * k:3 * k], w[3 * k:4 * k], w[4 * k:])
        return self._by_role[role]

    def score_orders(self, sents: Sentences, members: list[int], perms, role: str = "body", steps=None) -> object:
        """The score of each order in `perms` (rows of positions into `members`), at once.
        (`steps`: where each order's neighbours stand in an n x n matrix read flat, when kept.)"""
        import numpy as np

        w_early, w_ends, w_first, w_last, w_pair = self._role_weights(role)
        n = len(members)
        cues = sents.judged_cues(members)
        weight, ends = _position_weights(n)
        # Each order's sentences weighted by how early they stand, and by how near an end.
        early = (cues @ w_early)[perms] @ weight + (cues @ w_ends)[perms] @ ends
        first, last = (cues @ w_first)[perms[:, 0]], (cues @ w_last)[perms[:, -1]]
        pair = sents.judged_pairs(members) @ w_pair  # (n, n): b after a
        # (np.add.reduce and a division: what ndarray.mean does, without its Python-level steps.)
        adj = np.add.reduce(pair[perms[:, :-1], perms[:, 1:]] if steps is None else pair.ravel().take(steps), axis=1) \
            / (perms.shape[1] - 1)
        return early + first + last + adj

    def judge(self, sents: Sentences, paragraphs: list[tuple[int, list[int], str]]) -> Judgement | None:
        """Pool the share of permutations each paragraph of three or more sentences beats.
        `paragraphs`: (paragraph number, rows of its sentences in `sents`, its role in ROLES), in
        the essay's order."""
        import numpy as np

        if not self.weights:
            return None
        shares = []
        for number, members, role in paragraphs:
            n = len(members)
            if n < MIN_SENTENCES:
                continue
            # An essay read as one run that opens by pointing back ("It is tempting to...", "This
            # question...") is judged from that opening, not against orders that would give it
            # another first sentence. A paragraph is compared with every order of its sentences,
            # whatever it opens with: a shuffle that brings a "However" or a "This meant" to the
            # front was judged from it, and so looked written in its order. (Judged so, 57% of the
            # robustness benchmark's shuffles inside paragraphs lose the levels they should, against
            # 52%; of 144 marked essays one moved, a Level 5 essay whose paragraphs open "But" and
            # "Even so", from Level 3 up to Level 4.)
            first = members[0]
            follows_on = role == "essay" and (bool(sents.back[first]) or any(sents.cues[first, k] for k in CONTINUES))
            # The order as written first, then the orders it is compared with, scored at once.
            both = self.score_orders(sents, members, _written_then(n, follows_on), role, _written_steps(n, follows_on))
            written, scores = both[0], both[1:]
            # (A tolerance for ties: the written order is one of the permutations when all are taken.)
            lower = float(np.count_nonzero(scores < written - 1e-9))
            tied = float(np.count_nonzero(np.abs(scores - written) <= 1e-9))
            shares.append((number, round((lower + 0.5 * tied) / len(scores), 4)))
        if not shares:
            return None
        a, w = GENUINE_SHAPE, GENUINE_WEIGHT
        evidence = sum(math.log(w * a * share ** (a - 1) + 1 - w) for _p, share in shares)
        return Judgement(tuple(shares), round(evidence, 4))

    @classmethod
    def load(cls, path: Path) -> "ParagraphOrderModel":
        raw = json.loads(path.read_text(encoding="utf-8"))
        if list(raw["features"]) != list(FEATURES):
            raise ValueError(f"{path}: the paragraph order model was fitted on other features")
        return cls(dict(zip(raw["features"], raw["weights"])), {k: v for k, v in raw.items() if k not in ("features", "weights")})

    def to_json(self) -> dict:
        return {**self.meta, "features": list(FEATURES), "weights": [self.weights.get(k, 0.0) for k in FEATURES]}


@lru_cache(maxsize=1)
def paragraph_order_model() -> ParagraphOrderModel:
    """The shipped model, or one that judges nothing when it is missing or broken."""
    try:
        return ParagraphOrderModel.load(MODEL_FILE)
    except (OSError, ValueError, KeyError, TypeError):
        return ParagraphOrderModel({})
