"""The answering engine: knowledge + site + registry in, an :class:`Answer` out.

It knows no chat. Front ends hold one ``Engine`` for their whole life; ``reload`` builds a
new state off to the side and swaps it in one assignment, so an answer in flight always
sees one consistent state, and a broken change never replaces the last good one.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.answering import compose, followup, pipeline
from bot.answering.answer import Answer, Link
from bot.answering.conversation import Conversation
from bot.answering.decision import SECTION_FEATURES, SECTIONS_FILE, Model
from bot.answering.glossary import Glossary
from bot.answering.pipeline import Stages, Trace
from bot.answering.search import Doc, Index
from bot.answering.text import detect_lang, strip_slack
from bot.answering.vocabulary import Vocabulary
from bot.eligibility.schemes import Scheme, load_schemes
from bot.errors import BotError, KnowledgeError
from bot.knowledge.pages import Knowledge, Page, load_knowledge
from bot.knowledge.site import page_docs, site_files
from bot.registry.model import PHASE_LABELS, Registry, load_from_site, load_registry
from bot.registry.names import NAMES_FILE, load_names
from bot.registry.startups import StartupFinder

log = logging.getLogger(__name__)

MAX_QUESTION = 2000
CACHE_VERSION = 8  # bump when Doc, Registry or the site parsing change


@dataclass
class State:
    """Everything one answer reads; never mutated once built."""

    knowledge: Knowledge
    index: Index
    pages: dict[str, Page]
    site_docs: list[Doc] = field(default_factory=list)
    registry: Registry | None = None
    finder: StartupFinder | None = None
    schemes: dict[str, Scheme] = field(default_factory=dict)
    built_in_ms: float = 0.0
    sentences: dict[str, list[tuple[str, frozenset[str]]]] = field(default_factory=dict)
    email_pages: dict[str, tuple[tuple[str, str], ...]] = field(
        default_factory=dict
    )  # address -> site pages giving it
    numbered: dict[str, frozenset[int]] = field(default_factory=dict)  # "fast" -> {1, ..., 17}
    service_index: Index | None = None  # the services' pitches, to find one by description
    vocabulary: Vocabulary | None = None  # the programme's words, computed
    decision: Model | None = None  # whether to answer with the best hit (None: by the rules)
    sections: Model | None = None  # which section of the page answers (None: by the rules)
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # knowledge/names.yaml
    incubator_index: Index | None = None  # the incubators' pages, to find one by administration
    titles: dict[str, str] = field(default_factory=dict)  # page address -> its title
    glossary: Glossary | None = None  # English words for the services' French ones


def knowledge_docs(knowledge: Knowledge) -> list[Doc]:
    docs = []
    for page in knowledge.pages:
        for i, sec in enumerate(page.sections):
            docs.append(
                Doc(
                    id=sec.id,
                    url=sec.url,
                    title=sec.title,
                    text=sec.text_fr,
                    text_en=sec.text_en,
                    kind=page.kind,
                    source="knowledge",
                    page_id=page.id,
                    page_title=page.title,
                    aliases=sec.aliases,
                    page_aliases=page.aliases,
                    related=page.related,
                    facts=tuple(page.facts.items()),
                    status=page.status,
                    is_summary=i == 0,
                )
            )
    return docs


def _cache_key(site: Path) -> tuple[object, ...]:
    files = site_files(site)
    return (
        CACHE_VERSION,
        str(site.resolve()),
        tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files),
    )


def load_site(site: Path, cache_dir: Path | None) -> tuple[list[Doc], Registry | None]:
    """Site sections and registry from a checkout, through a cache keyed on file mtimes."""
    key = _cache_key(site)
    cache_file = None
    if cache_dir is not None:
        cache_file = cache_dir / "site-cache.pickle"
        try:
            with cache_file.open("rb") as fh:
                cached = pickle.load(fh)
            if cached.get("key") == key:
                return cached["docs"], cached["registry"]
        except (
            OSError,
            EOFError,
            pickle.PickleError,
            AttributeError,
            KeyError,
            TypeError,
            ValueError,
        ):
            pass
    docs = page_docs(site)
    registry: Registry | None = None
    try:
        registry = load_from_site(site)
    except BotError as exc:
        log.warning("registry not loaded from %s: %s", site, exc)
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache_file.parent, prefix=".site-cache.")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump({"key": key, "docs": docs, "registry": registry}, fh)
            os.replace(tmp, cache_file)
        except OSError as exc:
            log.info("site cache not written: %s", exc)
    return docs, registry


def build_state(
    knowledge_dir: Path,
    site: Path | None = None,
    data_dir: Path | None = None,
    registry: Registry | None = None,
) -> State:
    """Load and index everything; raise KnowledgeError when knowledge is broken."""
    t0 = time.perf_counter()
    knowledge = load_knowledge(knowledge_dir)
    schemes = load_schemes(Path(knowledge_dir) / "schemes")
    names = load_names(Path(knowledge_dir) / NAMES_FILE)
    site_docs: list[Doc] = []
    if site is not None:
        site_docs, site_registry = load_site(Path(site), data_dir / "cache" if data_dir else None)
        registry = registry or site_registry
    if registry is None:
        try:
            registry = load_registry(None, data_dir)
        except (BotError, OSError) as exc:
            log.warning("no registry: %s", exc)
    docs = knowledge_docs(knowledge) + site_docs
    index = Index(docs)
    services = pipeline.registry_docs(registry, "startup")
    vocabulary = Vocabulary.build(
        [d.text + " " + d.text_en for d in docs if d.source == "knowledge"]
        + [d.title for d in services],
        # the pages' titles, and the statuses a service can have: "transféré", "opéré"
        [p.title for p in knowledge.pages]
        + [label.split(" (")[0] for label in PHASE_LABELS.values()],
        others=[d.text for d in services],
        cache=data_dir / "cache" / "general-zipf.json" if data_dir else None,
    )
    finder = (
        StartupFinder(registry, names=names, zipf=vocabulary.zipf) if registry is not None else None
    )
    return State(
        knowledge=knowledge,
        index=index,
        pages={p.id: p for p in knowledge.pages},
        site_docs=site_docs,
        registry=registry,
        finder=finder,
        names=names,
        schemes=schemes,
        built_in_ms=(time.perf_counter() - t0) * 1000,
        sentences=compose.site_sentences(site_docs),
        email_pages=compose.email_pages(site_docs),
        numbered=pipeline.numbered_families(docs),
        titles=compose.page_titles(docs),
        service_index=Index(services) if services else None,
        incubator_index=_optional_index(pipeline.registry_docs(registry, "incubator")),
        decision=Model.load(),
        sections=_section_model(),
        glossary=Glossary.load(),
        vocabulary=vocabulary,
    )


def _section_model() -> Model | None:
    """The fitted choice of a page's section, when fitted (``bench/fit_sections.py``)."""
    if not SECTIONS_FILE.exists():
        return None
    return Model.load(SECTIONS_FILE, SECTION_FEATURES)


def _optional_index(docs: list[Doc]) -> Index | None:
    return Index(docs) if docs else None


class Engine:
    """Answers questions. Thread-safe for readers; ``reload`` swaps state atomically."""

    def __init__(
        self,
        state: State,
        knowledge_dir: Path,
        site: Path | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self._state = state
        self.knowledge_dir = Path(knowledge_dir)
        self.site = site
        self.data_dir = data_dir
        self.last_error: BotError | None = None
        self.stages = Stages()

    @classmethod
    def load(
        cls,
        knowledge_dir: Path,
        site: Path | None = None,
        data_dir: Path | None = None,
    ) -> Engine:
        state = build_state(Path(knowledge_dir), site, data_dir)
        return cls(state, Path(knowledge_dir), site, data_dir)

    @property
    def state(self) -> State:
        return self._state

    @property
    def schemes(self) -> dict[str, Scheme]:
        return self._state.schemes

    @property
    def registry(self) -> Registry | None:
        return self._state.registry

    def reload(self) -> KnowledgeError | None:
        """Rebuild from disk. On a broken change keep serving the last good state and
        return the error (file:line problems); return None when the new state is live."""
        try:
            state = build_state(self.knowledge_dir, self.site, self.data_dir)
        except KnowledgeError as exc:
            self.last_error = exc
            log.error("knowledge reload refused, still serving the last good version: %s", exc)
            return exc
        self._state = state
        self.last_error = None
        return None

    def set_registry(self, registry: Registry | None) -> None:
        """Swap in a freshly synced registry (background refresh)."""
        old = self._state
        zipf = old.vocabulary.zipf if old.vocabulary is not None else None
        finder = (
            StartupFinder(registry, names=old.names, zipf=zipf) if registry is not None else None
        )
        services = pipeline.registry_docs(registry, "startup")
        self._state = replace(
            old,
            registry=registry,
            finder=finder,
            service_index=Index(services) if services else None,
            incubator_index=_optional_index(pipeline.registry_docs(registry, "incubator")),
            decision=Model.load(),
            sections=_section_model(),
        )

    def answer(self, question: str, conversation: Conversation | None = None) -> Answer:
        """Answer ``question``; with a ``conversation``, a follow-up continues its subject
        (and the turn is added to it)."""
        return self.explain(question, conversation)[0]

    def remember(self, conversation: Conversation, question: str, answer: Answer) -> None:
        """Add a turn answered elsewhere (another process, without context) to a conversation."""
        text = strip_slack(str(question)[:MAX_QUESTION]).strip()
        result = compose.Result(answer.answered, answer.intent, answer.text, [], answer.source_id)
        followup.remember(self._state, conversation, text, result)

    def explain(
        self, question: str, conversation: Conversation | None = None
    ) -> tuple[Answer, Trace]:
        """The answer, and how each stage of the pipeline decided it."""
        t0 = time.perf_counter()
        state = self._state
        raw = "" if question is None else str(question)
        text = strip_slack(raw[:MAX_QUESTION]).strip()
        lang = detect_lang(text)
        trace = Trace()
        result = pipeline.run(state, text, lang, self.stages, trace)
        if conversation is not None:
            result = followup.continued(state, text, lang, result, conversation, self.stages, trace)
        took = (time.perf_counter() - t0) * 1000
        return Answer(
            question=raw,
            answered=result.answered,
            intent=result.intent,
            text=result.text,
            links=tuple(Link(url, title) for url, title in result.links),
            took_ms=took,
            lang=lang,
            source_id=result.source_id,
            suggestions=tuple(result.suggestions),
        ), trace
