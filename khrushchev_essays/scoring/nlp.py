"""The spaCy pipeline: built once into `pipeline_dir()`, loaded from there once per process.

The pipeline is `spacy.blank("en")` + a sentencizer + a lookup lemmatizer whose table comes from
the official spacy-lookups-data package. The lemmatizer looks up the lower-cased token, so
"Reforms", "reforms" and "REFORMS" all get the lemma "reform" (spaCy's own lookup mode keys on the
token's text as written). Nothing is downloaded at run time.

A user with another pipeline installed (say en_core_web_sm) can name it in the environment
variable KHRUSHCHEV_SPACY_PIPELINE, or in the app's SPACY_PIPELINE setting, instead.
KHRUSHCHEV_PIPELINE_DIR moves the built pipeline itself (default: models/pipeline in a source
checkout, `pipeline/` in the instance folder for an installed wheel).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PIPELINE_ENV = "KHRUSHCHEV_SPACY_PIPELINE"
PIPELINE_DIR_ENV = "KHRUSHCHEV_PIPELINE_DIR"


def pipeline_dir() -> Path:
    """Where the built pipeline lives (and `build-pipeline` writes it).

    $KHRUSHCHEV_PIPELINE_DIR if set; in a source checkout, models/pipeline; otherwise (an
    installed wheel, whose package folder is not ours to write) `pipeline/` in the instance folder.
    """
    from ..config import instance_path
    from ..resources import source_checkout

    env = os.environ.get(PIPELINE_DIR_ENV, "").strip()
    if env:
        return Path(os.path.abspath(os.path.expanduser(env)))
    root = source_checkout()
    if root is not None:
        return root / "models" / "pipeline"
    return Path(instance_path()) / "pipeline"


PIPELINE_DIR = pipeline_dir()  # read once, at import (spawned batch workers inherit the environment)
LEMMATIZER_NAME = "lowercase_lemmatizer"

_lock = threading.Lock()
_loaded: dict[str, object] = {}


def _register_factory() -> None:
    """Register the lower-casing lookup lemmatizer with spaCy (idempotent)."""
    from spacy.errors import Errors
    from spacy.language import Language
    from spacy.pipeline import Lemmatizer

    if Language.has_factory(LEMMATIZER_NAME):
        return

    class LowercaseLookupLemmatizer(Lemmatizer):
        """spaCy's lookup lemmatizer, keyed on the lower-cased token."""

        def __call__(self, doc):
            """Set every token's lemma (as `lookup_lemmatize` gives it), a column at a time.

            The lemma depends only on the lower-cased form, so each distinct form is looked up once
            per process (kept by hash) and the doc's LEMMA column is written in one call. Going token
            by token made a Python Token object, a string and a list per word: the lemmatizer was
            a third of the bare pipeline's time. `lookup_lemmatize` is still the rule.
            """
            import numpy as np
            from spacy.attrs import LEMMA, LOWER

            if not self._validated:
                self._validate_tables(Errors.E1004)
            if not len(doc):
                return doc
            if not self.overwrite:  # not how this pipeline is configured; spaCy's own loop then
                return super().__call__(doc)
            lower = doc.to_array(LOWER)
            forms, where = np.unique(lower, return_inverse=True)
            known = self._lemma_hashes
            strings = doc.vocab.strings
            for form in forms.tolist():
                if form not in known:
                    lemma = self._lookup(strings[form])
                    known[form] = strings.add(lemma)
            lemmas = np.array([known[f] for f in forms.tolist()], dtype="uint64")[where.reshape(-1)]
            doc.from_array(LEMMA, lemmas)
            return doc

        @property
        def _lemma_hashes(self) -> dict:
            # Cleared with the table (initialize() or from_disk() swap in new lookups).
            cached = getattr(self, "_cached_lemmas", None)
            if cached is None or cached[0] is not self.lookups:
                cached = self._cached_lemmas = (self.lookups, {})
            return cached[1]

        def _lookup(self, lower: str) -> str:
            result = self._table.get(lower, lower)
            return result if isinstance(result, str) else result[0]

        def lookup_lemmatize(self, token):  # noqa: D102 - same contract as the parent
            table = self._table
            lower = token.lower_
            result = table.get(lower, lower)
            return [result] if isinstance(result, str) else result

        @property
        def _table(self):
            # Lookups.get_table is not free: keep the table, and notice when initialize() or
            # from_disk() swaps in a new Lookups object.
            cached = getattr(self, "_cached_table", None)
            if cached is None or cached[0] is not self.lookups:
                cached = (self.lookups, self.lookups.get_table("lemma_lookup", {}))
                self._cached_table = cached
            return cached[1]

    @Language.factory(
        LEMMATIZER_NAME,
        assigns=["token.lemma"],
        default_config={"model": None, "mode": "lookup", "overwrite": True, "scorer": None},
    )
    def make_lowercase_lemmatizer(nlp, model, name, mode, overwrite, scorer):
        return LowercaseLookupLemmatizer(nlp.vocab, model, name, mode=mode, overwrite=overwrite, scorer=scorer)


def build_pipeline(path: str | Path = PIPELINE_DIR):
    """Build the blank English pipeline with its lemma table and save it to `path`. Returns it."""
    import spacy

    _register_factory()
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(LEMMATIZER_NAME)
    nlp.initialize()  # reads the lemma table from spacy-lookups-data (installed, not downloaded)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    (path / ENGLISH_WORDS_FILE).write_text("\n".join(english_word_list(nlp)) + "\n", encoding="utf-8")
    return nlp


ENGLISH_WORDS_FILE = "english_words.txt"


def english_word_list(nlp) -> list[str]:
    """English word forms known to the pipeline: every lemma of its lookup table plus the stop list.

    The table's keys are hashes of inflected forms, so its values (the lemmas) are what can be
    listed; a token counts as English when it or its lemma is among them. Listing them takes a
    couple of seconds, so build_pipeline saves the list beside the pipeline.
    """
    vals: set[str] = set(nlp.Defaults.stop_words)
    for _name, pipe in nlp.pipeline:
        lookups = getattr(pipe, "lookups", None)
        if lookups is not None and lookups.has_table("lemma_lookup"):
            vals.update(v for v in lookups.get_table("lemma_lookup").values() if isinstance(v, str))
    return sorted(vals)



def _default_tokenizer(name: str) -> list[str]:
    """["tokenizer"] when the pipeline at `name` is one build_pipeline saved with this very spaCy release.

    Loading a saved pipeline builds the language's tokenizer from its defaults and then reads the
    saved one over it (rules and 2,700 special cases, about a tenth of a second again). Ours is
    spaCy's English tokenizer as it was, so when the release that saved it is the one running,
    the saved copy is the same as the defaults and is not read (a test compares the two).
    """
    import json

    import spacy
    from spacy import git_info

    try:
        meta = json.loads((Path(name) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    built_here = meta.get("spacy_git_version") == git_info.GIT_VERSION \
        and str(meta.get("spacy_version", "")).startswith(f">={spacy.__version__},")
    ours = meta.get("lang") == "en" and meta.get("pipeline") == ["sentencizer", LEMMATIZER_NAME]
    return ["tokenizer"] if built_here and ours else []


class PipelineMissing(RuntimeError):
    """The saved pipeline is not there: it has to be built first."""


def get_nlp(name: str | None = None):
    """The pipeline for this process, loaded once.

    `name` (or $KHRUSHCHEV_SPACY_PIPELINE) may name an installed spaCy package or a folder;
    by default the pipeline saved in PIPELINE_DIR (see pipeline_dir()) is used.
    """
    name = name or os.environ.get(PIPELINE_ENV) or str(PIPELINE_DIR)
    nlp = _loaded.get(name)
    if nlp is not None:
        return nlp
    with _lock:
        nlp = _loaded.get(name)
        if nlp is None:
            import spacy

            _register_factory()
            if name == str(PIPELINE_DIR) and not (PIPELINE_DIR / "config.cfg").is_file():
                raise PipelineMissing(
                    f"the spaCy pipeline has not been built yet ({PIPELINE_DIR} is missing): "
                    "run `khrushchev-essays build-pipeline` (or `make pipeline`)"
                )
            nlp = spacy.load(name, exclude=_default_tokenizer(name))
            nlp._path = Path(name) if Path(name).exists() else None  # where it came from, for side files
            if "sentencizer" not in nlp.pipe_names and "parser" not in nlp.pipe_names and "senter" not in nlp.pipe_names:
                nlp.add_pipe("sentencizer")
            _loaded[name] = nlp
    return nlp
