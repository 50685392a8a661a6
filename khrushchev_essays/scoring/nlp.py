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
from collections import OrderedDict
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
SENTENCIZER_NAME = "array_sentencizer"  # spaCy's sentencizer rule on arrays: swapped in at load (get_nlp)

_lock = threading.Lock()
_loaded: dict[str, object] = {}


def import_spacy():
    """`import spacy`, without importing spaCy's command-line interface along with it.

    spaCy's `__init__` imports `spacy.cli.info` for the `spacy.info` function, and with it the
    whole `spacy.cli` package: typer, rich, weasel, requests, httpx and some two hundred other
    modules, a tenth of a second of every process's start-up that marking never uses. Here, for
    that one import, `spacy.cli` and `spacy.cli.info` are placeholders; `spacy.info` is a function
    that imports the real one when called. The placeholders are gone once spaCy is imported, so a
    later `import spacy.cli` (spaCy's own commands, `python -m spacy`) imports the real package.
    Nothing of spaCy is changed: its files are not touched, and every other module is its own.
    If spaCy is imported already, or the CLI is, or a spaCy release needs more of its CLI than
    `info` while importing, this is plain `import spacy`.
    """
    import sys
    import types

    names = ("spacy.cli", "spacy.cli.info")
    if "spacy" in sys.modules or any(n in sys.modules for n in names):
        import spacy

        return spacy
    cli, info_module = types.ModuleType(names[0]), types.ModuleType(names[1])

    def info(*args, **kwargs):
        from spacy.cli.info import info as real_info

        return real_info(*args, **kwargs)

    info.__doc__ = "spaCy's `info` (spacy.cli.info), imported when first called."
    info_module.info = info
    cli.info = info_module
    sys.modules.update({names[0]: cli, names[1]: info_module})
    try:
        import spacy
    except ImportError:  # a spaCy release that wants more of its CLI at import: import it whole
        spacy = None
    finally:
        for name, placeholder in zip(names, (cli, info_module)):
            if sys.modules.get(name) is placeholder:
                del sys.modules[name]
        loaded = sys.modules.get("spacy")
        if loaded is not None and getattr(loaded, "cli", None) is cli:
            delattr(loaded, "cli")
    if spacy is None:
        import spacy
    return spacy


def _register_factory() -> None:
    """Register the lower-casing lookup lemmatizer with spaCy (idempotent)."""
    import_spacy()
    from spacy.errors import Errors
    from spacy.language import Language
    from spacy.pipeline import Lemmatizer, Sentencizer

    if Language.has_factory(LEMMATIZER_NAME):
        return

    class LowercaseLookupLemmatizer(Lemmatizer):
        """spaCy's lookup lemmatizer, keyed on the lower-cased token."""

        ARRAYS_FROM = 8  # tokens; measured: below this spaCy's own loop is the quicker

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
            # Not how this pipeline is configured, or a phrase (compiling a rubric runs a thousand
            # through the pipeline, and a few array calls cost more than a short loop): spaCy's loop.
            if not self.overwrite or len(doc) < self.ARRAYS_FROM:
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

        def from_disk(self, path, *, exclude=()):
            """As spaCy's Lemmatizer.from_disk, with the lookup tables filled in bulk (_read_lookups)."""
            from spacy import util

            deserialize = {
                "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
                "lookups": lambda p: _read_lookups(self.lookups, p),
            }
            util.from_disk(path, deserialize, exclude)
            self._validate_tables()
            return self

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

    class ArraySentencizer(Sentencizer):
        """spaCy's rule-based sentencizer, worked out on the doc's arrays: the same sentences.

        spaCy's loop makes a Python Token object per word to ask its text and is_punct, which cost
        as much as the tokenizer. The rule, as spaCy's `predict` applies it: the first token starts
        a sentence, and so does the first token after one of `punct_chars` that is neither
        punctuation nor one of them. So each such character's sentence start is the next "plain"
        token after it, found for all of them at once with np.searchsorted; then, as spaCy's
        `set_annotations` does, every other token is marked as not starting one (only where no
        earlier component decided, unless `overwrite`). A test compares the two on many texts.
        """

        ARRAYS_FROM = 150  # tokens; measured: below this spaCy's own loop is the quicker

        def __call__(self, doc):
            import numpy as np
            from spacy.attrs import ORTH, SENT_START

            n = len(doc)
            if n < self.ARRAYS_FROM:  # a phrase: spaCy's loop is quicker than a dozen array calls
                return super().__call__(doc)
            hashes = self._punct_hashes
            arr = doc.to_array([ORTH, SENT_START])
            orth = arr[:, 0]
            pos = np.minimum(np.searchsorted(hashes, orth), len(hashes) - 1)
            ender = hashes[pos] == orth  # token.text in punct_chars
            plain = np.flatnonzero(~ender & ~self._is_punct(orth, doc.vocab))
            after = np.searchsorted(plain, np.flatnonzero(ender), side="right")
            starts = np.zeros(n, dtype=bool)
            starts[0] = True
            starts[plain[after[after < len(plain)]]] = True
            values = np.where(starts, np.uint64(1), np.uint64(2**64 - 1))  # 1 and -1, as uint64
            if not self.overwrite:
                values = np.where(arr[:, 1] == 0, values, arr[:, 1])
            doc.from_array([SENT_START], values)
            return doc

        def _is_punct(self, orth, vocab):
            """Each token's is_punct, by its word form (orth hash): a flag of the form, kept per form
            in sorted arrays (asking the doc for IS_PUNCT took spaCy's GIL once per token)."""
            import numpy as np

            cached = getattr(self, "_cached_flags", None)
            if cached is None or cached[0] is not vocab:
                cached = self._cached_flags = (vocab, np.zeros(0, dtype="uint64"), np.zeros(0, dtype=bool))
            _vocab, keys, flags = cached
            pos = np.minimum(np.searchsorted(keys, orth), max(0, len(keys) - 1))
            found = keys[pos] == orth if len(keys) else np.zeros(len(orth), dtype=bool)
            if not found.all():
                new = np.unique(orth[~found])
                at = np.searchsorted(keys, new)
                keys = np.insert(keys, at, new)
                flags = np.insert(flags, at, [vocab[h].is_punct for h in new.tolist()])
                self._cached_flags = (vocab, keys, flags)
                pos = np.searchsorted(keys, orth)
            return flags[pos]

        @property
        def _punct_hashes(self):
            # The sorted string-store hashes of punct_chars, worked out again if they are replaced.
            from spacy.strings import hash_string

            chars = self.punct_chars
            cached = getattr(self, "_cached_punct", None)
            if cached is None or cached[0] is not chars:
                import numpy as np

                cached = self._cached_punct = (chars, np.array(sorted({hash_string(c) for c in chars}), dtype="uint64"))
            return cached[1]

    @Language.factory(
        SENTENCIZER_NAME,
        assigns=["token.is_sent_start", "doc.sents"],
        default_config={"punct_chars": None, "overwrite": False, "scorer": {"@scorers": "spacy.senter_scorer.v1"}},
    )
    def make_array_sentencizer(nlp, name, punct_chars, overwrite, scorer):
        return ArraySentencizer(name, punct_chars=punct_chars, overwrite=overwrite, scorer=scorer)

    @Language.factory(
        LEMMATIZER_NAME,
        assigns=["token.lemma"],
        default_config={"model": None, "mode": "lookup", "overwrite": True, "scorer": None},
    )
    def make_lowercase_lemmatizer(nlp, model, name, mode, overwrite, scorer):
        return LowercaseLookupLemmatizer(nlp.vocab, model, name, mode=mode, overwrite=overwrite, scorer=scorer)


def _read_lookups(lookups, path):
    """Lookups.from_disk, with each table filled entry by entry on the C side.

    spaCy's Table(name, data) sets every entry through its own __setitem__ (hash the key, set it,
    add it to the Bloom filter): 80 ms for the lemma table's 42,000 entries, an eighth of loading
    the pipeline. The keys as saved are already string ids, so the same table, entries and Bloom
    filter (sized and filled as Table.__init__ would) are made here in a tenth of the time.
    """
    import srsly
    from preshed.bloom import BloomFilter
    from spacy.lookups import Table
    from spacy.strings import get_string_id

    filepath = Path(path) / "lookups.bin"
    if not filepath.exists():
        return lookups
    tables = {}
    for name, data in srsly.msgpack_loads(filepath.read_bytes()).items():
        table = Table(name, {})  # empty: a one-entry Bloom filter, replaced just below
        table.bloom = BloomFilter.from_error_rate(max(len(data), 1))
        setitem, add = OrderedDict.__setitem__, table.bloom.add
        for key, value in data.items():
            key = key if isinstance(key, int) else get_string_id(key)
            setitem(table, key, value)
            add(key)
        tables[name] = table
    lookups._tables = tables
    return lookups


def build_pipeline(path: str | Path = PIPELINE_DIR):
    """Build the blank English pipeline with its lemma table and save it to `path`. Returns it."""
    spacy = import_spacy()

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


def _faster_sentencizer(nlp) -> None:
    """Replace spaCy's own sentencizer, if the pipeline has one, by the same rule on arrays
    (ArraySentencizer: same name, same settings, the same sentences, a tenth of the time). The
    saved pipeline is left as spaCy wrote it."""
    from spacy.pipeline import Sentencizer

    for name, pipe in nlp.pipeline:
        if type(pipe) is Sentencizer:
            nlp.replace_pipe(name, SENTENCIZER_NAME,
                             config={"punct_chars": sorted(pipe.punct_chars), "overwrite": pipe.overwrite})


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
            spacy = import_spacy()
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
            _faster_sentencizer(nlp)
            _loaded[name] = nlp
    return nlp
