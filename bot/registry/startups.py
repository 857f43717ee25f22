"""Finding the service or incubator a question names, and answering about it.

:class:`StartupFinder` indexes the names of every service and incubator of a
:class:`~bot.registry.model.Registry` once (titles, ids, parts of titles, former ids, web
addresses, acronyms), then answers ``match`` with dictionary look-ups of the question's
word n-grams, and a fuzzy pass (rapidfuzz, collapsed names only) for typos.

Many service names are ordinary words ("Projets", "Docs", "Mes Aides", "Code du travail
numérique"). Such a *weak* name only counts when the question is plainly about a service:
the rest of the question is registry cues ("phase", "incubé", "contact", "lien", "ça sert à
quoi", "existe toujours"...), or the name is capitalised mid-sentence or introduced as a
service ("le service Projets"). Otherwise ``match`` returns None, so a question like
"c'est quoi la phase d'investigation ?" never turns into a registry answer.

Scores (0-100): 100 a full name or id, 95 a part of a name or its web address, 92 a former
id (renamed service), 86-97 a typo, 90 a weak name with cues, 75-88 weaker evidence.
Below 60 there is no match.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process

from bot.answering.answer import Link
from bot.answering.facets import asked_facets, asking_words, wanted
from bot.answering.query import sentences
from bot.answering.text import (
    CONTACT_WORDS,
    STOP_WORDS,
    clip,
    deaccent,
    format_date,
    normalize,
    strip_slack,
    tokens,
)
from bot.answering.vocabulary import GENERAL_ZIPF, general_zipf
from bot.knowledge.urls import SITE
from bot.registry.model import (
    GRADUATED,
    STOPPED,
    FastGrant,
    Incubator,
    Phase,
    Registry,
    Startup,
    plain_text,
)

# The facets (data/facets.yaml) whose words, asked next to a name, say it names a service.
NAME_CUE_FACETS = frozenset({"status", "contact", "team_size", "budget", "grant"})


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _ordered(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MIN_SCORE = 60.0
MAX_NGRAM = 12  # words of the longest name indexed
MAX_COLLAPSED = 4  # words of a question read as one name ("dossier facile")
MAX_FUZZY_WORDS = 4
# A name of everyday words is matched despite a typo from this many words on.
FUZZY_WEAK_WORDS = 3
MAX_WORDS = 60
MAX_TEXT = 600
COMMON_DF = 8  # a word written in lower case in this many services' texts is a common word

SCORE_NAME = 100.0
SCORE_PART = 95.0
SCORE_FORMER = 92.0
SCORE_INITIALS = 90.0  # a name's initials ("ZLV")
SCORE_WEAK_CUED = 90.0
SCORE_WEAK_CAPITALISED = 88.0
SCORE_WEAK_ALONE = 80.0
SCORE_WEAK_HINT = 75.0
MATCH_CACHE = 4096  # questions whose match is remembered (cleared when full)
SCORE_WEAK = 45.0
SCORE_TAG_CUED = 95.0
SCORE_TAG_ACRONYM = 70.0
FUZZY_MAX = 97.0

# Ordinary words (French and English) that are also service or incubator names, or that
# questions about the programme use; checked against the whole list of names.
COMMON_WORDS = _wordset(
    """
    aide aides agora air alliance ami amis application appli archives arbre assistant
    authentification avril ban boite bonne bourse boussole budget cantine carte chantiers
    civil code commun communs compte comptes conseil connect construction consolidation
    contact coop culture agriculture data demain dialogue docs document documents dossier
    eau ecco ecole eoliennes espace estime etape etat experts facile fichiers fondation
    formation forms futur gap gps hydrogene ie impact inclusion innovation investigation
    acceleration transfert transfere opere abandon justice lab lieu maintenant maraudes
    memo men mentorat messagerie messages miroir mission mon mes ma notifications open
    partage pass perspectives phase plateforme portail potentiel prix pro programme projet
    projets psi mrs reponse retraite route sante service services signal signalement
    site sites sol solution sport stage startup suivi suite territoires tout tous trame
    transport travail tremplin usagers vie visio zen fast gamma alpha intrapreneur sponsor
    coach incubateur incubateurs incubation manifeste communaute comite investissement
    numerique numeriques public publique publics agent agents administration equipe
    perennisation eligibilite criteres candidature laureat laureats financement
    homologation securite donnees api entreprise entreprises emploi emplois logement
    region jeunes jeune jours collectivites collectivite territoire ecologie ecologique
    transition environnement energie renovation climat sante recrutement talents
    the one vision smart stop reflex expresso octopus trait union part age
    france francais francaise paris europe europeen etat gouvernement ministere prefecture
    departement commune communes mairie ville villes national nationale
    """
)

# Words that make a question plainly about one service (beside its name).
CUE_WORDS = _wordset(
    """
    phase phases etape etapes stade statut status stage incube incubee incubes incubees
    incubateur incubateurs incubator incubated incubation porte portee rattache
    contact contacts contacter contacte contactez joindre ecrire mail mails email emails
    mel courriel adresse lien liens site url website link web reach touch write
    sert servir quoi koi kwa what existe existent exist exists toujours encore still actif active
    alive ferme arrete arretee abandonne mort service startup start up produit outil equipe
    team responsable mission objectif qui ou where which who belong belongs part about
    aujourd hui actuellement maintenant exactement concretement deja infos info
    presentation description sais savoir dire explique expliquer tell know parle parler
    entendu connais connait connaitre avancement nouvelles news heard running works
    marche fonctionne tourne dispo disponible accessible ligne laureat laureats fast
    now currently today current stand standing going date jour depend depends releve
    gere gerer pilote runs run does fait moi startups services produits accompagne suivi
    suivie suivis passe passes passee passees pas encore marque marquee note notee affiche
    indique signifie veut mean means marked
    accompagnent accompagner handed transferred spun incubating graduated
    """
)
# Status words, about a service when the question asks whether it got there ("ils sont
# passés en accélération ?", "encore en construction ?"), about the programme otherwise.
STATUS_WORDS = _wordset(
    "investigation construction acceleration consolidation transfere transferee opere abandonne"
)
STATUS_MOVES = _wordset(
    "passe passes passee passees deja encore toujours marque marquee note notee affiche "
    "indique classe signifie mean means marked labelled"
)
# Function words of such questions that are neither cues nor part of a topic.
# (and the words that place a status question in the present: "right now", "actuellement")
FILLER_WORDS = _wordset(
    """
    est en a c la le les quel quelle quels quelles cest sa son ses its elle il on
    l d j m n s t y qu
    s is are the an of for in at to do does did me my us our i we please hi hello bonjour
    svp stp merci thanks peux pouvez peut can could would dis donne donner give
    chez vous nous etat une un des du de au aux niveau cote comme beta gouv over off
    now right currently today still yet anymore actuellement maintenant mtn aujourd hui
    toujours encore desormais
    """
)
# Words of how-to questions, which are about the programme, not about one service.
HOW_WORDS = _wordset(
    """
    comment pourquoi combien quand faire faut dois doit peut peux how why when much many
    cherche chercher trouver besoin
    """
)
# Words that introduce a service by name: "le service Projets".
SERVICE_MARKERS = _wordset(
    "service startup se produit outil plateforme appli application site projet"
)
INCUBATOR_CUES = _wordset(
    """
    incubateur incubateurs incubator incubators incub incubs fabrique atelier lab laboratoire
    ruche accelerateur operateur kube incubation labo labos
    """
)
# Generic words of incubator titles, never used alone to recognise one.
INCUBATOR_GENERIC = _wordset(
    """
    incubateur fabrique numerique numeriques ministere ministeres atelier departement
    accompagnement services service operateur produits interministeriels plateforme
    laboratoire innovation mission interministerielle lab innov fab reseau beta gouv
    souverainete alimentaire organisations organisation donnee territoriale
    """
)

# Question focus.
# Contact words, and the troubles one reports to a service's team ("X plante, je préviens qui ?").
SERVICE_CONTACT_WORDS = CONTACT_WORDS | _wordset(
    "bug bugs panne plante manque manquante erreur erreurs souci"
)
# Words around a name that say the question is about that service or incubator.
NAME_CUES = CUE_WORDS | INCUBATOR_CUES | SERVICE_CONTACT_WORDS
STATUS_PHRASES = (
    "existe toujours",
    "existe encore",
    "existent toujours",
    "toujours actif",
    "encore actif",
    "toujours en ligne",
    "encore en ligne",
    "encore incube",
    "toujours incube",
    "still exist",
    "still alive",
    "still active",
    "still running",
    "still incubated",
    "still around",
    "ferme",
    "arrete",
    "abandonne",
    "discontinued",
    "shut down",
    "handed over",
    "taken over",
    "spun off",
)
INCUBATOR_WORDS = _wordset(
    "incube incubee incubes incubees incubateur incubateurs incubator incubated porte "
    "portee rattache heberge"
)
SERVICES_WORDS = _wordset("services startups produits projets portfolio")
LINK_WORDS = _wordset("lien liens site url website link web")
PLACE_FACET = frozenset({"place"})
# Words asking who backs a service: its sponsors are on its card then.
SPONSOR_WORDS = _wordset(
    "sponsor sponsors porte portee porteur porteuse backs backed backing"
)  # where an incubator's premises are (facets.yaml)
MISSION_PHRASES = (
    "sert a quoi",
    "servir a quoi",
    "c est quoi",
    "cest quoi",
    "fait quoi",
    "a quoi",
    "what is",
    "what does",
    "what s",
    "mission",
    "objectif",
    "presentation",
    "purpose",
    "explique",
    "tell me about",
)


_WORD = re.compile(r"[A-Za-z0-9]+")
_LOWER_WORD = re.compile(r"(?<![A-Za-z0-9])[a-z]+(?![A-Za-z0-9])")
_DOMAIN = re.compile(r"[a-z0-9]\.(?:fr|com|org|net|info|io|eu|bzh|nc|taxi|ia)\b", re.IGNORECASE)
# where a name splits into names: dashes, brackets, commas, and "X ex Y" (its former name)
_PARTS = re.compile(r"\s+[-–—:]\s+|[()\[\],/]|\s+(?=(?:ex|anciennement|formerly)\s)", re.IGNORECASE)
_FORMERLY = re.compile(r"^(?:ex|anc|anciennement|ancien|ancienne|formerly)\b[\s.:]*", re.IGNORECASE)
_ARTICLES = ("la", "le", "les", "l")
_LEADING_ARTICLE = re.compile(rf"^(?:(?:{'|'.join(_ARTICLES)})\s+|l['’]\s*)", re.IGNORECASE)


@dataclass(frozen=True)
class StartupMatch:
    kind: str  # "startup" | "incubator"
    id: str
    name: str
    score: float  # 0..100, how sure the name match is
    span: str  # the words of the question that matched


@dataclass(frozen=True)
class _Key:
    kind: str
    id: str
    name: str
    weight: float
    weak: bool  # ordinary words: count only with cues
    tag: bool = False  # incubator short name (an id, an acronym): wants an incubator cue
    acronym: bool = False
    initials: bool = False  # a name's initials: counts only written in capitals ("ZLV")


_NAME_PART = re.compile(r"[A-ZÀ-Ý]?[a-zà-ÿ]+|[A-ZÀ-Ý]+(?![a-zà-ÿ])|\d+")


def _cuts(parts: list[str]) -> frozenset[int]:
    """Where a run of words is cut, as offsets in the words written together."""
    out, at = set(), 0
    for part in parts[:-1]:
        at += len(part)
        out.add(at)
    return frozenset(out)


@lru_cache(maxsize=4096)
def _name_cuts(*names: str) -> frozenset[int]:
    """Where a name may be cut into words: its spaces, hyphens, dots and capitals
    ("DossierFacile" at 7, "MonServiceSécurisé" at 3 and 10), in either of its forms."""
    found: set[int] = set()
    for name in names:
        found |= _cuts([p.lower() for p in _NAME_PART.findall(name)])
    return frozenset(found)


_MARKED = re.compile(
    r"(?<![\w*])\*([^*\n]{2,60})\*(?![\w*])|(?<![\w])_([^_\n]{2,60})_(?!\w)|`([^`\n]{2,60})`"
    r"|\"([^\"\n]{2,60})\"|«\s*([^»\n]{2,60}?)\s*»|“([^”\n]{2,60})”"
)


@dataclass(frozen=True)
class _Word:
    low: str
    raw: str


@dataclass
class _Context:
    words: list[_Word]
    incubator_cue: bool
    shouting: bool
    question: str = ""

    @cached_property
    def marked(self) -> frozenset[tuple[str, ...]]:
        """Runs of words set apart in the question: in bold, italics, code or quotes
        ("on m'a dit de passer par *ma cantine*"): a name, as a capital would say."""
        return frozenset(
            tuple(_low(next(g for g in m.groups() if g))) for m in _MARKED.finditer(self.question)
        )

    @cached_property
    def asking(self) -> frozenset[str]:
        """Words asking a service's status or contact ("X statut actuel ?", "X elle en est
        où ?"): they cue a name as much as "la startup X" does (read only when needed)."""
        return frozenset(_ascii(w).lower() for w in asking_words(self.question, NAME_CUE_FACETS))


def _ascii(text: str) -> str:
    """Slack markup out, accents dropped, case kept."""
    return deaccent(strip_slack(text))


def _words(text: str) -> list[_Word]:
    return [_Word(w.lower(), w) for w in _WORD.findall(_ascii(text))]


def _low(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(_ascii(text))]


def _has_phrase(spaced: str, phrases: tuple[str, ...]) -> bool:
    padded = f" {spaced} "
    return any(f" {p} " in padded for p in phrases)


def _lower_article(title: str) -> str:
    """'La Fabrique ...' -> 'la Fabrique ...' for use inside a sentence."""
    for article in ("La ", "Le ", "Les ", "L'", "L’"):
        if title.startswith(article):
            return article.lower() + title[len(article) :]
    return title


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _everyday(part: str, zipf: Mapping[str, float] | None) -> bool:
    """Whether a part of a name is one word of everyday language ("Maritime" in "ANDV -
    Maritime - MOANA"): said in a question, it is that word, unless written as a name.
    ``zipf``: the general-language frequencies already looked up (the engine's vocabulary),
    else they are looked up."""
    found = part.split()
    if len(found) != 1:
        return False
    word = found[0].lower()
    known = zipf.get(word) if zipf is not None else None
    # (a service added by a refresh may bring a word the vocabulary never met)
    return (known if known is not None else general_zipf(word)) >= GENERAL_ZIPF


class StartupFinder:
    """Name index over a registry; ``match`` and ``answer`` are pure and fast."""

    def __init__(
        self,
        registry: Registry,
        *,
        today: date | None = None,
        names: Mapping[str, Sequence[str]] | None = None,
        zipf: Mapping[str, float] | None = None,
    ) -> None:
        """``names``: other names by ``kind:id`` (knowledge/names.yaml, bot.registry.names);
        ``zipf``: how common words are in general language, where known already."""
        self.registry = registry
        self._zipf = zipf
        self.today = today
        self._matches: dict[tuple[str, str | None], StartupMatch | None] = {}
        self._common = self._common_words(registry)
        self._exact: dict[str, list[_Key]] = {}
        self._collapsed: dict[str, list[_Key]] = {}
        self._distinct: dict[str, tuple[str, ...]] = {}  # collapsed name -> its uncommon words
        self._content_of: dict[str, tuple[str, ...]] = {}  # collapsed name -> its content words
        self._longest: dict[str, int] = {}  # first word -> words of the longest name it starts
        # words naming each incubator (its id, acronyms, owner): "One Vision DGFIP" names
        # the service with its incubator, which makes the match surer, not weaker
        self._incubator_words: dict[str, frozenset[str]] = {
            inc.id: frozenset(
                [*_low(inc.id), *_low(inc.owner)]
                + [w.lower() for w in _WORD.findall(_ascii(inc.title)) if w.isupper()]
            )
            - STOP_WORDS
            for inc in registry.incubators.values()
        }
        self._incubator_of = {s.id: s.incubator_id for s in registry.startups}
        # words in capitals the services' texts use ("CCAS", "SIRET"): general terms, which a
        # name ending with one ("… et le CCAS") is not found by alone
        self._upper_of = {s.id: _upper_words(s) for s in registry.startups}
        self._said_upper: Counter[str] = Counter(
            w for words in self._upper_of.values() for w in words
        )
        hosts = Counter(_host(s.link) for s in registry.startups if s.link)
        for s in registry.startups:
            self._index_startup(s, hosts)
        for inc in registry.incubators.values():
            self._index_incubator(inc)
        self._index_initials(registry)
        self._index_other_names(names or {})
        # fuzzy choices, by the first and last three letters: strong names, and names of
        # three everyday words or more ("Code du travail numérique"), long enough to be one
        self._fuzzy: dict[str, dict[str, _Key]] = {}
        for collapsed, keys in self._collapsed.items():
            long = len(self._content_of.get(collapsed, ())) >= FUZZY_WEAK_WORDS
            strong = [k for k in keys if (long or not k.weak) and not k.tag]
            if len(collapsed) < 5 or not strong:
                continue
            best = max(strong, key=lambda k: k.weight)
            for probe in (collapsed[:3], "$" + collapsed[-3:]):
                self._fuzzy.setdefault(probe, {})[collapsed] = best

    # ------------------------------------------------------------------ index

    @staticmethod
    def _common_words(registry: Registry) -> frozenset[str]:
        """Curated ordinary words plus words the services' own texts use in lower case."""
        df: Counter[str] = Counter()
        for s in registry.startups:
            text = deaccent(f"{s.mission} {s.description[:800]}")
            df.update(set(_LOWER_WORD.findall(text)))
        return COMMON_WORDS | {w for w, n in df.items() if n >= COMMON_DF}

    def _is_weak(self, words: list[str], name: str = "") -> bool:
        if _DOMAIN.search(name):
            return False  # transport.data.gouv.fr
        content = [w for w in words if w not in STOP_WORDS and not w.isdigit()]
        if not content:
            return True
        if len(content) == 1 and len(content[0]) <= 2:
            return True
        return all(w in self._common for w in content)

    def _add(self, words: list[str], key: _Key) -> None:
        if not words or len(words) > MAX_NGRAM or (len(words) == 1 and len(words[0]) < 2):
            return
        spaced = " ".join(words)
        self._exact.setdefault(spaced, []).append(key)
        self._longest[words[0]] = max(self._longest.get(words[0], 0), len(words))
        collapsed = "".join(words)
        if len(collapsed) >= 4:
            self._collapsed.setdefault(collapsed, []).append(key)
            if collapsed not in self._distinct:
                self._distinct[collapsed] = tuple(
                    w for w in words if w not in STOP_WORDS and w not in self._common
                )
                self._content_of[collapsed] = tuple(w for w in words if w not in STOP_WORDS)

    def _name_forms(self, name: str) -> list[tuple[list[str], float, str]]:
        """The whole name, then its parts ('AMI - Application ...', 'X (ex Y)'), each as
        (words, weight, text); a leading article is optional. A part written in lower case
        ('(culturels, sportifs, associatifs)') describes rather than names: it is left out."""
        forms: list[tuple[list[str], float, str]] = []
        parts = [p.strip() for p in _PARTS.split(name) if p and p.strip()]
        candidates = [(name, SCORE_NAME)]
        raw_words = name.split()
        if (
            len(raw_words) > 2
            and raw_words[-1].isupper()
            and len(raw_words[-1]) >= 3
            and self._said_upper[_ascii(raw_words[-1])] <= 1
        ):
            # "Parcours interministériel du numérique PINUM": the acronym, and the name without it
            parts = [*parts, " ".join(raw_words[:-1]), raw_words[-1]] if len(parts) <= 1 else parts
        if len(parts) > 1:
            for part in parts:
                part = _FORMERLY.sub("", part).strip()
                # "RNB, le Référentiel National des Bâtiments": the article is not the part
                bare = _LEADING_ARTICLE.sub("", part)
                if bare and (not bare[0].islower() or _DOMAIN.search(part)):
                    candidates.append((part, SCORE_PART))
        seen: set[tuple[str, ...]] = set()
        for raw, weight in candidates:
            words = _low(raw)
            variants = [(words, weight)]
            if len(words) > 1 and words[0] in _ARTICLES:
                variants.append((words[1:], SCORE_PART))
            for variant, w in variants:
                if variant and tuple(variant) not in seen:
                    seen.add(tuple(variant))
                    forms.append((variant, w, raw))
        return forms

    def _index_startup(self, s: Startup, hosts: Counter[str]) -> None:
        def add(raw: str, weight: float, words: list[str] | None = None) -> None:
            words = _low(raw) if words is None else words
            weak = self._is_weak(words, raw) or (
                weight == SCORE_PART and _everyday(raw, self._zipf)
            )
            self._add(words, _Key("startup", s.id, s.name, weight, weak))

        for words, weight, raw in self._name_forms(s.name):
            add(raw, weight, words)
        add(s.id, SCORE_NAME)
        for former in s.aliases:
            add(former, SCORE_FORMER)
        host = _host(s.link)
        if host and hosts[host] == 1 and "." in host:
            add(host, SCORE_PART)

    def _index_other_names(self, names: Mapping[str, Sequence[str]]) -> None:
        """The names the programme's team gives incubators and services besides theirs ("the
        Armed Forces' incubator"), read as former names are."""
        for key, aliases in names.items():
            kind, _, ident = key.partition(":")
            found = (
                self.registry.incubators.get(ident)
                if kind == "incubator"
                else self.registry.startup(ident)
            )
            if found is None:
                continue
            title = found.title if isinstance(found, Incubator) else found.name
            for alias in aliases:
                for words, _, raw in self._name_forms(alias):
                    weak = self._is_weak(words, raw)
                    self._add(words, _Key(kind, ident, title, SCORE_PART, weak))

    def _index_initials(self, registry: Registry) -> None:
        """ "ZLV" for "Zéro Logement Vacant" (the initials of a name of three words or more),
        "UVF" for "Les UVF à l'heure du numérique" (a word in capitals inside a name): when no
        other name, word, incubator or service has them ("MTE" is the ministry's)."""
        found: dict[str, list[Startup]] = {}
        for s in registry.startups:
            content = [w for w in _low(s.name) if w not in STOP_WORDS and not w.isdigit()]
            if len(content) >= 3:
                found.setdefault("".join(w[0] for w in content), []).append(s)
        # a word in capitals inside a name ("Les UVF à l'heure du numérique"), not one the
        # services' texts use of other things ("SIRET", "CAF"), in a name not all in capitals
        said = self._said_upper
        for s in registry.startups:
            name = _ascii(s.name)
            if name.isupper():
                continue
            for word in _WORD.findall(name):
                if len(word) >= 3 and word.isupper() and len(_low(name)) > 1 and said[word] <= 1:
                    found.setdefault(word.lower(), []).append(s)
        for initials, owners in found.items():
            if (
                len(owners) == 1
                and initials not in self._exact
                and initials not in self._common
                # "ADS" is also what other services' texts call something else
                and said[initials.upper()] <= int(initials.upper() in self._upper_of[owners[0].id])
            ):
                s = owners[0]
                key = _Key("startup", s.id, s.name, SCORE_INITIALS, False, initials=True)
                self._add([initials], key)

    def _index_incubator(self, inc: Incubator) -> None:
        title_words = _WORD.findall(_ascii(inc.title))
        acronyms = {w.lower() for w in title_words if w.isupper() and len(w) >= 3}
        id_words = _low(inc.id)
        forms = [(words, weight, raw) for words, weight, raw in self._name_forms(inc.title)]
        for words, weight, raw in [*forms, (id_words, SCORE_NAME, "")]:
            content = [w for w in words if w not in STOP_WORDS]
            generic = all(w in INCUBATOR_GENERIC for w in content)
            if len(content) >= 3 or (len(content) == 2 and not generic):
                self._add(words, _Key("incubator", inc.id, inc.title, weight, weak=False))
            elif len(content) == 1 and raw == inc.title and not generic and len(content[0]) >= 5:
                # a one-word name (Accélérema, ALLiaNCE): sure alone unless it is a common
                # word, which then needs the question to be about it
                weak = content[0] in self._common
                self._add(words, _Key("incubator", inc.id, inc.title, weight, weak=weak))
        # short names, which count with an incubator cue ("l'incubateur de la justice"),
        # or alone for an acronym (ANCT, MTE): id and acronyms first, then title words,
        # then the owning organisation
        tags: dict[str, tuple[float, bool]] = {}
        owner = _low(inc.owner)
        candidates: list[tuple[str, float]] = []
        if len(id_words) == 1:
            candidates.append((id_words[0], SCORE_TAG_CUED))
        candidates += [(a, SCORE_TAG_CUED) for a in sorted(acronyms)]
        candidates += [
            (w.lower(), SCORE_TAG_CUED - 2)
            for w in title_words
            if len(w) >= 4 and w.lower() not in STOP_WORDS and w.lower() not in INCUBATOR_GENERIC
        ]
        if len(owner) == 1:
            candidates.append((owner[0], SCORE_TAG_CUED - 5))
        for tag, weight in candidates:
            if len(tag) < 3 or tag in tags:
                continue
            acronym = tag in acronyms or (tag in (*id_words, *owner) and tag not in self._common)
            tags[tag] = (weight, acronym)
        for tag, (weight, acronym) in tags.items():
            self._add(
                [tag],
                _Key("incubator", inc.id, inc.title, weight, weak=True, tag=True, acronym=acronym),
            )

    # ------------------------------------------------------------------ match

    def match(self, question: str, kind: str | None = None) -> StartupMatch | None:
        """The service or incubator the question names (of ``kind``, "startup" or
        "incubator", when given), or None (score below MIN_SCORE). Remembered: a question
        is read by several stages."""
        key = (str(question or ""), kind)
        if key in self._matches:
            return self._matches[key]
        found = self._match(key[0], kind)
        if len(self._matches) >= MATCH_CACHE:
            self._matches.clear()
        self._matches[key] = found
        return found

    def _match(self, question: str, kind: str | None) -> StartupMatch | None:
        words = _words(question)[:MAX_WORDS]
        if not words:
            return None
        low = [w.low for w in words]
        ctx = _Context(
            words=words,
            incubator_cue=bool(set(low) & INCUBATOR_CUES),
            shouting=sum(w.raw.isupper() and len(w.raw) > 1 for w in words) * 2 > len(words),
            question=str(question or ""),
        )
        found: list[tuple[float, int, int, _Key]] = []
        for i in range(len(low)):
            longest = self._longest.get(low[i], 0)
            for n in range(min(max(longest, MAX_COLLAPSED), len(low) - i), 0, -1):
                span = low[i : i + n]
                keys = self._exact.get(" ".join(span)) if n <= longest else None
                # "code du travail" written as one id (codedutravail) is still ordinary words
                spread = False
                joined = False  # a name of several words written as one ("ajust" for A-JUST)
                if keys is None and n <= MAX_COLLAPSED:
                    keys = self._collapsed.get("".join(span))
                    spread = bool(keys) and n > 1 and self._is_weak(span)
                    joined = bool(keys) and n == 1 and span[0] not in self._common
                    if keys and n > 1:
                        # "dossier facile" is DossierFacile, cut where the name is; "them is"
                        # is not Themis, cut inside one of its words
                        cuts = _cuts(span)
                        keys = [k for k in keys if cuts <= _name_cuts(k.name, k.id)]
                if not keys:
                    continue
                for key in keys:
                    if kind is not None and key.kind != kind:
                        continue
                    if spread and not key.weak:
                        key = replace(key, weak=True)
                    elif joined and key.weak and len(_low(key.name)) > 1:
                        key = replace(key, weak=False)
                    score = self._score(key, ctx, i, i + n)
                    if score >= MIN_SCORE:
                        found.append((score, i, n, key))
        # an incubator's short name inside a service's name ("Pass Culture") is not the incubator
        names = [(i, i + n) for _, i, n, key in found if not key.tag and n > 1]
        best_rank: tuple[float, int, bool, float] | None = None
        best: tuple[int, int, _Key] | None = None
        for score, i, n, key in found:
            if key.tag and any(a <= i and i + n <= b and b - a > n for a, b in names):
                continue
            rank = (score, sum(map(len, low[i : i + n])), key.kind == "startup", key.weight)
            if best_rank is None or rank > best_rank:
                best_rank, best = rank, (i, n, key)
        if best_rank is None or best_rank[0] < SCORE_WEAK_CUED:
            fuzzy = self._fuzzy_match(ctx)
            if fuzzy is not None and kind is not None and fuzzy[3].kind != kind:
                fuzzy = None
            if fuzzy is not None and (best_rank is None or fuzzy[0] > best_rank[0]):
                best_rank, best = (fuzzy[0], 0, True, 0.0), fuzzy[1:]
        asks_incubator = best is not None and any(
            w in INCUBATOR_CUES for k, w in enumerate(low) if not best[0] <= k < best[0] + best[1]
        )
        if best is not None and best[2].kind == "incubator" and not asks_incubator:
            # "le service de la Plateforme de l'inclusion (DORA)": a service named beside its
            # own incubator is what the question is about, unless it asks for an incubator
            own = [
                (score, i, n, k)
                for score, i, n, k in found
                if k.kind == "startup"
                and score >= SCORE_WEAK_CAPITALISED
                and self._incubator_of.get(k.id) == best[2].id
            ]
            if own:
                score, i, n, k = max(own, key=lambda f: (f[0], f[2]))
                best_rank, best = (score, 0, True, k.weight), (i, n, k)
        if best_rank is None or best is None:
            return None
        start, n, key = best
        span_text = " ".join(w.raw for w in words[start : start + n])
        return StartupMatch(key.kind, key.id, key.name, round(best_rank[0], 1), span_text)

    def _score(self, key: _Key, ctx: _Context, start: int, end: int) -> float:
        """How sure a name found at words[start:end] is, given the rest of the question."""
        if key.initials:
            raw = ctx.words[start].raw
            return key.weight if end - start == 1 and raw.isupper() else 0.0
        if key.tag:
            if ctx.incubator_cue:
                return key.weight
            return SCORE_TAG_ACRONYM if key.acronym else 0.0
        if not key.weak:
            return key.weight
        outside = [w for k, w in enumerate(ctx.words) if not start <= k < end]
        moves = any(w.low in STATUS_MOVES for w in outside)
        incubator = (
            self._incubator_words.get(self._incubator_of.get(key.id, ""), frozenset())
            if key.kind == "startup"
            else frozenset()
        )

        def is_cue(word: str) -> bool:
            # status words count when the question asks whether it got there; the words
            # naming the service's own incubator count too ("One Vision DGFIP")
            return (
                word in NAME_CUES
                or (moves and word in STATUS_WORDS)
                or word in incubator
                or word in ctx.asking
            )

        # "comment joindre X ?" asks for a contact, not how the programme works
        contact = any(w.low in SERVICE_CONTACT_WORDS for w in outside)
        others = [
            w
            for w in outside
            if (w.low in HOW_WORDS and not contact and w.low not in ctx.asking)
            or (w.low not in STOP_WORDS and not is_cue(w.low) and w.low not in FILLER_WORDS)
        ]
        cued = any(is_cue(w.low) for w in outside)
        # "A-JUST c'est en quelle phase maintenant ?": a name that is one of the words placing
        # a question in the present (the service "Maintenant!") is that word, unless written
        # as a name
        filler = all(w.low in FILLER_WORDS for w in ctx.words[start:end])
        if not others and not filler:
            return SCORE_WEAK_CUED if cued else SCORE_WEAK_ALONE
        first = ctx.words[start].raw
        # "Projets" or "MonCompte" mid-sentence reads as a name; "GPS" does not
        span = [w.raw for w in ctx.words[start:end] if len(w.raw) > 2]
        capitalised = (
            not ctx.shouting
            and (
                (start > 0 and any(c.isupper() for c in first) and any(c.islower() for c in first))
                # "Fiche Commune Entreprise plante..." : a name in title case, even first;
                # "API Particulier": capitals starting every word, not all of them shouted
                or (
                    len(span) >= 2
                    and all(w[0].isupper() for w in span)
                    and any(w[1:].islower() for w in span)
                )
            )
        )
        introduced = (start > 0 and ctx.words[start - 1].low in SERVICE_MARKERS) or tuple(
            w.low for w in ctx.words[start:end]
        ) in ctx.marked
        if filler:
            return SCORE_WEAK_HINT if capitalised or introduced else SCORE_WEAK
        if capitalised or introduced:
            # whom to write to about a name written as one is asked of it
            return SCORE_WEAK_CAPITALISED if cued or contact else SCORE_WEAK_HINT
        return SCORE_WEAK

    def _fuzzy_match(self, ctx: _Context) -> tuple[float, int, int, _Key] | None:
        """The closest strong name to a 1-3 word span (typos), found through its first or
        last three letters; None under the cut-off. A span of ordinary words is weak."""
        low = [w.low for w in ctx.words]
        best: tuple[float, int, int, _Key] | None = None
        best_len = 0
        for i in range(len(low)):
            if low[i] in CUE_WORDS and low[i] not in STOP_WORDS:
                continue
            for n in range(1, min(MAX_FUZZY_WORDS, len(low) - i) + 1):
                span = low[i : i + n]
                last = span[-1]
                # nor ending on an elided word's letter ("code du travail s'applique")
                if n > 1 and (last in STOP_WORDS or last in CUE_WORDS or len(last) == 1):
                    continue
                q = "".join(span)
                if len(q) < 5:
                    continue
                ordinary = all(w in STOP_WORDS or w in CUE_WORDS or w in self._common for w in span)
                if ordinary and n == 1:
                    continue
                choices: dict[str, _Key] = {}
                for probe in (q[:3], "$" + q[-3:]):
                    choices.update(self._fuzzy.get(probe, {}))
                if not choices:
                    continue
                cutoff = 90.0 if len(q) < 8 else 86.0
                found = process.extractOne(q, list(choices), scorer=fuzz.ratio, score_cutoff=cutoff)
                if found is None or not self._covers(span, q, found[0]):
                    continue
                key = choices[found[0]]
                raw = " ".join(w.raw for w in ctx.words[i : i + n])
                if key.name.isupper() and raw.islower():
                    # "un poste nomade" is a laptop, not NOMAD: a name in capitals, near a
                    # word written in lower case, is that word
                    continue
                score = min(float(found[1]), FUZZY_MAX)
                # "un logement étudiant" is not "Mon Logement Étudiant": only small words differ
                content = [w for w in span if w not in STOP_WORDS]
                if content and self._content_of.get(found[0]) == tuple(content):
                    ordinary = True
                if ordinary or key.weak:
                    score = min(score, self._score(replace(key, weak=True), ctx, i, i + n))
                if score < MIN_SCORE:
                    continue
                if best is None or (score, len(q)) > (best[0], best_len):
                    best, best_len = (score, i, n, key), len(q)
        return best

    def _covers(self, span: list[str], collapsed_span: str, name: str) -> bool:
        """Each uncommon word of the name has a close form in the span ("nos geste climat"
        for "Nos Gestes Climat"), so ordinary words alone never fuzzy-match a name."""
        forms = [*span, collapsed_span]
        return all(
            max(fuzz.ratio(word, form) for form in forms) >= 75.0
            for word in self._distinct.get(name, ())
        )

    # ------------------------------------------------------------------ answer

    def answer(self, match: StartupMatch, question: str, lang: str) -> tuple[str, list[Link], str]:
        """(text, links, intent): text ≤ ~600 chars, links[0] = the page on beta.gouv.fr.

        The first line answers what the question asks (contact, status, incubator, link,
        mission, else the current phase); the other facts follow, one per line.
        """
        focus = _focus(question)
        intent = "contact" if focus == "contact" else "startup"
        if match.kind == "incubator":
            inc = self.registry.incubators.get(match.id)
            if inc is not None:
                text = self._incubator_answer(inc, focus, lang, question)
                return text, self._incubator_links(inc), intent
        else:
            s = self.registry.startup(match.id)
            if s is not None:
                text = self._startup_answer(s, match, question, focus, lang)
                return text, self._startup_links(s), intent
        if lang == "en":
            text = f"I no longer find {match.name} in the registry of beta.gouv.fr services."
        else:
            text = f"Je ne trouve plus {match.name} dans le registre des services de beta.gouv.fr."
        return text, [Link(f"{SITE}/startups/", "Startups d'État")], "startup"

    def _phase_sentence(
        self, s: Startup, phase: Phase | None, focus: str, question: str, lang: str
    ) -> str:
        en = lang == "en"
        name = f"*{s.name}*"
        if phase is None:
            if en:
                return f"The current phase of {name} is not given on beta.gouv.fr."
            return f"La phase actuelle de {name} n'est pas renseignée sur beta.gouv.fr."
        since = ""
        if phase.start is not None:
            since = (
                f" since {format_date(phase.start, lang)}"
                if en
                else f" depuis le {format_date(phase.start, lang)}"
            )
        active = phase.name not in STOPPED and phase.name not in GRADUATED
        now = ("currently " if en else "actuellement ") if active else ""
        if phase.name in STOPPED:
            on = ""
            if phase.start is not None:
                on = (
                    f" on {format_date(phase.start, lang)}"
                    if en
                    else f" le {format_date(phase.start, lang)}"
                )
            sentence = f"{name} {'was' if en else 'a été'} {phase.label(lang)}{on}."
        elif en:
            sentence = f"{name} has been {phase.label(lang)}{since}."
        else:
            sentence = f"{name} est {now}{phase.label(lang)}{since}."
        planned = s.next_phase(self.today)
        if planned is not None and planned.start is not None:
            day = format_date(planned.start, lang)
            sentence += (
                f" Next step announced: {_short_label(planned, lang)}, on {day}."
                if en
                else f" Étape suivante annoncée : {_short_label(planned, lang)}, le {day}."
            )
        if focus != "status":
            return sentence
        about_incubation = bool(
            set(_low(question)) & {"incube", "incubee", "incubated", "incubation"}
        )
        if phase.name in STOPPED:
            return ("No: " if en else "Non : ") + sentence
        if about_incubation and not active:
            return ("No longer incubated: " if en else "Non, plus en incubation : ") + sentence
        return ("Yes: " if en else "Oui : ") + sentence

    def _startup_answer(
        self, s: Startup, match: StartupMatch, question: str, focus: str, lang: str
    ) -> str:
        en = lang == "en"
        inc = self.registry.incubator_of(s)
        lines: dict[str, str] = {
            "phase": self._phase_sentence(s, s.current_phase(self.today), focus, question, lang)
        }
        if s.summary():
            lines["mission"] = ("Mission: " if en else "Mission : ") + clip(s.summary(), 260)
        if inc is not None:
            lines["incubator"] = ("Incubator: " if en else "Incubateur : ") + inc.title
        if s.contact:
            lines["contact"] = ("Contact: " if en else "Contact : ") + s.contact
        elif inc is not None and inc.contact:
            lines["contact"] = (
                f"Contact: none given for the team; its incubator answers at {inc.contact}"
                if en
                else f"Contact : pas d'adresse d'équipe ; l'incubateur répond à {inc.contact}"
            )
        if s.fast and "fast" in _low(question):
            # only when asked: a grant is not the service's budget, which no card gives
            lines["fast"] = ("FAST: " if en else "FAST : ") + " ; ".join(
                _grant(g, lang) for g in s.fast
            )
        if s.link:
            lines["link"] = ("Website: " if en else "Site : ") + s.link
        if s.sponsors and set(_low(question)) & SPONSOR_WORDS:
            # only when asked: who backs the service ("son sponsor", "porté par qui ?")
            names = ", ".join(_organisation(o) for o in s.sponsors)
            lines["sponsor"] = ("Sponsor: " if en else "Sponsor : ") + names
        said = _said_on_page(s, question)
        if said:
            lines["said"] = ("On its page: « " if en else "Sur sa page : « ") + said + " »"
        replaced = focus if focus in ("contact", "incubator", "link", "mission") else "phase"
        lead = self._startup_lead(s, inc, focus, lines, lang)
        rest = [
            lines[k]
            for k in ("said", "sponsor", "phase", "mission", "incubator", "contact", "fast", "link")
            if k in lines and k != replaced
        ]
        return _fit([self._renamed_note(s, match, lang), lead, *rest])

    def _startup_lead(
        self, s: Startup, inc: Incubator | None, focus: str, lines: dict[str, str], lang: str
    ) -> str:
        en = lang == "en"
        name = f"*{s.name}*"
        if focus == "contact":
            if s.contact:
                return (
                    f"To reach the {name} team: {s.contact}"
                    if en
                    else f"Pour contacter l'équipe {name} : {s.contact}"
                )
            if inc is not None and inc.contact:
                return (
                    f"No team address is given for {name}; write to its incubator, {inc.title}: {inc.contact}"
                    if en
                    else f"Pas d'adresse d'équipe pour {name} ; écrivez à son incubateur, {_lower_article(inc.title)} : {inc.contact}"
                )
            return (
                f"No contact is given for {name}; write to contact@beta.gouv.fr"
                if en
                else f"Aucun contact renseigné pour {name} ; écrivez à contact@beta.gouv.fr"
            )
        if focus == "incubator":
            if inc is not None:
                return (
                    f"{name} is incubated by {inc.title}."
                    if en
                    else f"{name} est incubé par {_lower_article(inc.title)}."
                )
            return (
                f"The incubator of {name} is not given."
                if en
                else f"L'incubateur de {name} n'est pas renseigné."
            )
        if focus == "link":
            if s.link:
                return f"The website of {name}: {s.link}" if en else f"Le site de {name} : {s.link}"
            return (
                f"No website is given for {name}; its page: {s.url}"
                if en
                else f"Pas de site renseigné pour {name} ; sa fiche : {s.url}"
            )
        if focus == "mission" and s.summary():
            summary = clip(s.summary(), 320)
            return f"{name}: {summary}" if en else f"{name} : {summary}"
        return lines["phase"]

    def _renamed_note(self, s: Startup, match: StartupMatch, lang: str) -> str:
        """'« locatio » est l'ancien nom de DossierFacile.' when the question used a former id."""
        span = "".join(_low(match.span))
        if span in "".join(_low(s.name)) or span == "".join(_low(s.id)):
            return ""
        if any("".join(_low(former)) == span for former in s.aliases):
            if lang == "en":
                return f"“{match.span}” is the former name of *{s.name}*."
            return f"« {match.span} » est l'ancien nom de *{s.name}*."
        return ""

    def _startup_links(self, s: Startup) -> list[Link]:
        links = [Link(s.url, f"{s.name} — beta.gouv.fr")]
        inc = self.registry.incubator_of(s)
        if inc is not None:
            links.append(Link(inc.url, inc.title))
        if s.link:
            links.append(Link(s.link, s.name))
        return links

    def _incubator_answer(self, inc: Incubator, focus: str, lang: str, question: str = "") -> str:
        en = lang == "en"
        name = f"*{inc.title}*"
        lines = []
        if (set(_low(question)) - set(_low(inc.title))) & SERVICES_WORDS:
            services = self._featured(inc, limit=8)
            total = len(self.registry.startups_of(inc.id))
            if services:
                names = ", ".join(
                    f"{s.name} ({_short_label(p, lang)})" if p else s.name for s, p in services
                )
                lines.append(
                    f"{name} supports {total} services, among them: {names}."
                    if en
                    else f"{name} accompagne {total} services, dont : {names}."
                )
                if inc.contact:
                    lines.append(("Contact: " if en else "Contact : ") + inc.contact)
                return _fit(lines)
        if focus == "place" and inc.address:
            lines.append(
                f"{name} is at {inc.address}."
                if en
                else f"{name} se trouve {'au' if inc.address[:1].isdigit() else 'à'} {inc.address}."
            )
        elif focus == "contact" and inc.contact:
            lines.append(
                f"To reach {name}: {inc.contact}"
                if en
                else f"Pour contacter {name} : {inc.contact}"
            )
        else:
            lines.append(
                f"{name} is an incubator of the beta.gouv.fr network."
                if en
                else f"{name} est un incubateur du réseau beta.gouv.fr."
            )
        about = inc.description or inc.short_description
        if about:
            lines.append(clip(about, 320))
        if inc.contact and focus != "contact":
            lines.append(("Contact: " if en else "Contact : ") + inc.contact)
        if inc.website:
            lines.append(("Website: " if en else "Site : ") + inc.website)
        services = self._featured(inc)
        if services:
            total = len(self.registry.startups_of(inc.id))
            names = ", ".join(
                f"{s.name} ({_short_label(p, lang)})" if p else s.name for s, p in services
            )
            count = f" ({total} in all)" if en else f" ({total} au total)"
            lines.append(
                ("Some of its services: " if en else "Quelques services : ") + names + count
            )
        return _fit(lines)

    def _featured(self, inc: Incubator, limit: int = 4) -> list[tuple[Startup, Phase | None]]:
        out: list[tuple[Startup, Phase | None]] = []
        for sid in inc.highlighted:
            s = self.registry.startup(sid)
            if s is not None:
                out.append((s, s.current_phase(self.today)))
        active = []
        for s in self.registry.startups_of(inc.id):
            p = s.current_phase(self.today)
            if p is not None and p.name not in STOPPED and all(s is not o for o, _ in out):
                active.append((p.start or date.min, s, p))
        active.sort(key=lambda t: t[0], reverse=True)
        out.extend((s, p) for _, s, p in active)
        return out[:limit]

    def _incubator_links(self, inc: Incubator) -> list[Link]:
        links = [Link(inc.url, inc.title)]
        if inc.website and inc.website.rstrip("/") != SITE:
            links.append(Link(inc.website, inc.title))
        links.append(Link(f"{SITE}/startups/?incubateur={inc.id}", "Startups d'État"))
        return links


def _short_label(phase: Phase, lang: str) -> str:
    """'transféré (sorti de ...)' -> 'transféré'."""
    return phase.label(lang).split(" (")[0]


def _fit(lines: list[str], limit: int = MAX_TEXT) -> str:
    """Join lines, shortening the longest ones (mission, description) to stay under limit."""
    lines = [line for line in lines if line]
    text = "\n".join(lines)
    while len(text) > limit:
        longest = max(range(len(lines)), key=lambda k: len(lines[k]))
        excess = len(text) - limit
        target = len(lines[longest]) - excess - 2
        if target < 60:
            return clip(text, limit)
        lines[longest] = clip(lines[longest], target)
        text = "\n".join(lines)
    return text


def _focus(question: str) -> str:
    """What the question asks first: place, contact, status, incubator, link, mission or
    phase."""
    low = _low(question)
    words = set(low)
    spaced = " ".join(low)
    if asking_words(question, PLACE_FACET):
        return "place"
    if words & SERVICE_CONTACT_WORDS or "qui contacter" in spaced:
        return "contact"
    if _has_phrase(spaced, STATUS_PHRASES):
        return "status"
    if words & INCUBATOR_WORDS:
        return "incubator"
    if words & LINK_WORDS:
        return "link"
    if _has_phrase(spaced, MISSION_PHRASES):
        return "mission"
    return "phase"


def _said_on_page(s: Startup, question: str) -> str:
    """The sentence of a service's page that gives a figure the question asks for and its
    card does not ("dispo dans combien de départements ?" -> "… disponible dans 58
    départements"): it must look like the fact asked and share a word of the question."""
    looks = [w.looks for w in wanted(question) if w.looks is not None and w.name != "contact"]
    looks += [f.evidence for f in asked_facets(question) if f.evidence is not None]
    if not looks or not s.description:
        return ""
    asked = set(tokens(question)) - set(tokens(s.name)) - set(tokens(s.id))
    for sentence in sentences(plain_text(s.description)):
        normal = normalize(sentence)
        if any(p.search(normal) for p in looks) and asked & set(tokens(sentence)):
            return clip(sentence, 220)
    return ""


def _organisation(ident: str) -> str:
    """An organisation as its id says it: "dgcs" -> "DGCS", "ministere-culture" -> "ministere
    culture" (the registry gives ids, not names)."""
    return ident.upper() if "-" not in ident and len(ident) <= 8 else ident.replace("-", " ")


def _upper_words(s: Startup) -> frozenset[str]:
    """The words a service's own texts write in capitals ("SIRET", "CCAS", its acronym)."""
    text = _ascii(f"{s.name} {s.mission} {s.description[:800]}")
    return frozenset(w for w in _WORD.findall(text) if w.isupper())


def _grant(grant: FastGrant, lang: str) -> str:
    """ "300 000 € (FAST 13)": a FAST grant as the card shows it."""
    parts = []
    if grant.amount is not None:
        parts.append(f"{grant.amount:,}".replace(",", " " if lang == "fr" else ",") + " €")
    if grant.edition is not None:
        parts.append(f"(FAST {grant.edition})" if parts else f"FAST {grant.edition}")
    return " ".join(parts)
