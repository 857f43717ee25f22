"""Text normalisation for search: accents, case, elisions, quotes, Slack markup, stop words.

Everything here is pure and total: any string in, no exception out.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import date
from functools import lru_cache

_TYPO = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u200b": "",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u0153": "oe",
        "\u0152": "oe",
        "\u00e6": "ae",
        "\u00c6": "ae",
    }
)

# <@U123>, <!channel>, <#C123|general>, <https://x|label>, <mailto:a@b|a@b>: one token between
# angle brackets that holds no other angle bracket, so an unclosed "<" costs one scan to the next
# "<" (linear time; "[^>]*" made "<!channel" x 4,000 quadratic).
_SLACK_MARKUP = re.compile(r"<([^<>]*)>")
_LINK_TARGET = re.compile(r"^(?:https?|mailto):", re.IGNORECASE)
# A Matrix user id (@jean:tchap.gouv.fr), not an e-mail's "@" (a word character before it).
_MATRIX_ID = re.compile(r"(?<![\w.@])@[\w.=/+-]+:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d+)?")
_SPECIAL_MENTIONS = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
_ELISION = re.compile(r"\b(?:l|d|j|n|s|c|m|t|qu|jusqu|lorsqu|puisqu)'", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:[.@][a-z0-9]+)*")

STOP_FR = frozenset(
    """
    a au aux avec ce ces cet cette c ca d dans de des du elle elles en est et etc eu il
    ils je j l la le les leur leurs lui ma mais me meme pareil idem chaque fois mes moi mon n ne ni nos notre nous
    on ou par pas pour qu que qui quoi sa se ses si son sont sur ta te tes toi ton tu un
    une vos votre vous y etre avoir ai as avons avez ont suis es sommes etes fait faire
    faut peut peux veux veut quel quelle quels quelles comment combien quand est-ce cela
    ceci svp stp merci bonjour salut hello coucou alors donc bien tres plus moins tout
    tous toute toutes deja encore aussi ici la-bas vers chez entre sans sous apres avant
    ya il-y-a dois doit doivent sera seront serait etait ete bah ben bon hein genre truc
    euh ok okay concretement exactement vraiment general gros peu pres environ chose
    choses quelqu quelque quelques c'est s'il voudrait voudrais aimerait aimerais souhaite
    souhaiterait voulons voudrions besoin dire savoir sais connaitre juste madame
    monsieur mesdames messieurs cordialement souhaiterais pourriez pourrait cadre
    """.split()
)
STOP_EN = frozenset(
    """
    a an the of to in on at for from by with about as is are was were be been being do
    does did have has had i you he she it we they me my our your their its this that these
    those what which who whom whose how when where why can could should would will shall
    may might must there here and or but if then than so not no yes any some please hi
    thanks thank into out up down just also very much many more most am us get gets got
    supposed through far gone
    """.split()
)
STOP_WORDS = STOP_FR | STOP_EN

EN_MARKERS = frozenset(
    """
    the what which who how when where why is are does do can could should would will there
    their our your my you we they it of for with about and to an a in on this that need
    needs into get long many much share state startup startups phase programme program
    team people build users service services please hi hello eligible apply
    """.split()
)
# Words an English question opens with (never French words).
EN_OPENERS = frozenset(
    "what which who how when where why is are does do can could should would will".split()
)
FR_MARKERS = frozenset(
    """
    le la les un une des du de est c ce ca qui que quoi quel quelle quels quelles comment
    combien pour sur dans avec pas on nous vous je tu il elle et ou au aux mon ma mes
    notre nos votre vos faut peut bonjour salut svp merci en se si y a
    """.split()
)


# Words asking how to reach someone ("je contacte qui ?", "how can I reach..."), shared by
# the answer types (a contact answer leads with the address) and the service finder.
CONTACT_WORDS = frozenset(
    """
    contact contacts contacter contacte contactez joindre joignait joint joins joignable
    ecrire ecrit ecris ecrivez mail mails email emails e-mail mel courriel previens prevenir
    previent signaler signale reach touch write
    """.split()
)


# Chat shorthand, expanded before stop words apply ("c koi", "cb de temps").
SLANG = {
    "koi": "quoi",
    "kwa": "quoi",
    "cb": "combien",
    "incub": "incubateur",
    "incubs": "incubateurs",
    "cbien": "combien",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pkoi": "pourquoi",
    "tps": "temps",
    "qqn": "quelqu",
    "qq": "quelques",
    "bcp": "beaucoup",
    "pr": "pour",
    "ds": "dans",
    "ms": "mais",
    "vs": "vous",
    "jsp": "sais",
    "dc": "donc",
    "tt": "tout",
    "tjr": "toujours",
    "tjrs": "toujours",
    "mtn": "maintenant",
    "dispo": "disponible",
    "infos": "informations",
    "info": "information",
    "matos": "materiel",
    "bosser": "travailler",
    "taf": "travail",
    "taff": "travail",
    "boulot": "travail",
    # how a thing starts, however it is said: "démarre", "débute", "commence" are its "debut"
    "demarre": "debut",
    "demarrer": "debut",
    "demarrent": "debut",
    "demarrage": "debut",
    "debute": "debut",
    "debuter": "debut",
    "debutent": "debut",
    "commence": "debut",
    "commencer": "debut",
    "commencent": "debut",
    # how a thing ends, however it is said: "se termine", "finit", "fini" are its "fin"
    "fini": "fin",
    "finie": "fin",
    "finis": "fin",
    "finies": "fin",
    "finit": "fin",
    "finir": "fin",
    "achevee": "fin",
    "acheve": "fin",
    "termine": "fin",
    "terminee": "fin",
    "termines": "fin",
    "terminees": "fin",
    "terminer": "fin",
    "terminent": "fin",
    "end": "fin",
    "ends": "fin",
    "ending": "fin",
    # who pays for a thing funds it: "qui paie l'investigation ?" is "qui finance"
    "paie": "finance",
    "payer": "financer",
    "paient": "finance",
    "payent": "finance",
    "won": "laureats",
    "orga": "organisation",
    "cher": "cout",
    "chere": "cout",
    "couteux": "cout",
    "dev": "developpeur",
    "devs": "developpeurs",
    "qd": "quand",
    "bascule": "passe",
    "basculer": "passer",
    "pdt": "pendant",
    "doc": "document",
    "docs": "documents",
    "tel": "telephone",
    "tél": "telephone",
    "num": "numero",
    "acce": "acceleration",
    "remuneration": "salaire",
    "intra": "intrapreneur",
    "intras": "intrapreneurs",
}


class _Deaccented(dict[int, str]):
    """Each character's form without accents (NFKD, combining marks dropped, typography to
    ASCII), computed the first time it is met: ``str.translate`` then runs at C speed."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        plain = unicodedata.normalize("NFKD", char.translate(_TYPO))
        form = "".join(c for c in plain if not unicodedata.combining(c)).translate(_TYPO)
        self[code] = form
        return form


_DEACCENTED = _Deaccented()


def deaccent(text: str) -> str:
    """Typographic forms to ASCII, ligatures opened, accents dropped; case and spaces kept."""
    text = str(text)
    return text.translate(_TYPO) if text.isascii() else text.translate(_DEACCENTED)


def fold(text: str) -> str:
    """:func:`deaccent`, casefolded, spaces collapsed: the form every comparison uses."""
    return " ".join(deaccent(text).casefold().split())


def strip_slack(text: str, *, keep_mentions: bool = False, bot_user_id: str | None = None) -> str:
    """Chat markup to the words a person typed, in time linear in the text's length.

    Links keep their label (``<https://x|le site>`` -> ``le site``, ``<https://x>`` ->
    ``https://x``, ``<mailto:a@b|a@b>`` -> ``a@b``), a channel keeps its name, entities are decoded
    (``&lt;`` -> ``<``). Mentions and user ids (``<@U123>``, ``<!here>``, Matrix ``@jean:server``)
    vanish, unless ``keep_mentions``: then a mention with a name stays a readable ``@jean``,
    ``<!here>`` stays ``@here`` and a channel reads ``#general`` (what Slack's front end shows
    back); the mention of ``bot_user_id`` always vanishes. Anything else between angle brackets
    is left as it is.
    """

    def token(m: re.Match[str]) -> str:
        target, _, label = m.group(1).partition("|")
        kind = target[:1]
        if kind == "@":
            if not keep_mentions or (bot_user_id and target[1:] == bot_user_id):
                return " "
            return f"@{label.lstrip('@')}" if label else ""
        if kind == "#":
            if keep_mentions:
                return f"#{label}" if label else ""
            return label or " "
        if kind == "!":
            if not keep_mentions:
                return " "
            name = target[1:].split("^", 1)[0]
            if name in _SPECIAL_MENTIONS:
                return _SPECIAL_MENTIONS[name]
            if name == "subteam":
                return f"@{label.lstrip('@')}" if label else ""
            return label
        if _LINK_TARGET.match(target):
            return label or re.sub(r"^mailto:", "", target, flags=re.IGNORECASE)
        return m.group(0)

    text = _SLACK_MARKUP.sub(token, str(text))
    if not keep_mentions and "@" in text:
        text = _MATRIX_ID.sub(" ", text)
    return html.unescape(text)


# "SE" in capitals is the community's short name for a startup d'État (not the pronoun)
_SE = re.compile(r"(?<!\S)SEs?\b")


# "14th", "14e", "14ème", "1er", "2nd": the number itself ("FAST 14")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th|eme|e|er|ere|re|ieme)\b")
# "how fast" asks about speed, not about the FAST programme
_HOW_FAST = re.compile(r"\b(how|so|as|very|too) fast\b")


_PLAIN_WORD = re.compile(r"[a-z]+")


def unslang(normal: str) -> str:
    """A normalised question with chat abbreviations written out ("cb de temps" -> "combien
    de temps", "qd" -> "quand"), for reading what it asks."""
    return _PLAIN_WORD.sub(lambda m: SLANG.get(m.group(0), m.group(0)), normal)


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Slack markup out, folded, elisions cut (l'acceleration -> acceleration)."""
    text = fold(_SE.sub("startup", strip_slack(text)))
    text = _HOW_FAST.sub(r"\1 quickly", text)
    text = _ORDINAL.sub(r"\1", text)
    return _ELISION.sub(" ", text)


# Plurals in -aux of words in -au that are not -eau or -yau (French grammar's short list).
_AU_PLURALS = frozenset({"materiaux", "fabliaux", "gruaux"})

_SUFFIXES = (
    "issements",
    "issement",
    "ations",
    "ation",
    "ements",
    "ement",
    "atrices",
    "atrice",
    "ateurs",
    "ateur",
    "euses",
    "euse",
    "ees",
    "ies",
    "ing",
    "ed",
    "es",
    "ee",
    "er",
    "ez",
    "s",
    "x",
    "e",
)


def stem(word: str) -> str:
    """A very light French/English stemmer: plurals, final -e, -er/-ement/-ation collapse."""
    if word.isdigit() or len(word) <= 3 or "@" in word or "." in word:
        return word
    if word.endswith("aux") and len(word) >= 6 and not word.endswith(("eaux", "yaux")):
        # the plural of -al words ("sociaux" is "social"), except those of -au words
        return word[:-1] if word in _AU_PLURALS else word[:-3] + "al"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if word.endswith(("s", "x", "e")) and len(word) > 4:
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def _stem_cached(word: str) -> str:
    return stem(word)


# The programme's own name, however it is written: "beta gouv", "betagouv", "beta.gouv",
# "Beta.gouv.fr" are one word, as the pages write it.
_PROGRAMME_NAME = re.compile(r"\bbeta(?:[ .]?gouv)(?:[ .]fr)?\b")
PROGRAMME = "beta.gouv.fr"


def words(text: str) -> list[str]:
    """Normalised words, stop words included (for phrases and language detection)."""
    normal = _PROGRAMME_NAME.sub(PROGRAMME, normalize(text))
    return [SLANG.get(w, w) for w in _WORD.findall(normal)]


def tokens(text: str, *, keep_stop: bool = False) -> list[str]:
    """Search tokens: normalised, stop words removed, lightly stemmed."""
    out = []
    for w in words(text):
        if not keep_stop and w in STOP_WORDS:
            continue
        out.append(_stem_cached(w))
    return out


def detect_lang(text: str) -> str:
    """'en' when the message reads as English, else 'fr' (the default)."""
    ws = _WORD.findall(fold(strip_slack(text)).replace("'", " "))
    en = sum(1 for w in ws if w in EN_MARKERS)
    fr = sum(1 for w in ws if w in FR_MARKERS)
    opens = bool(ws) and ws[0] in EN_OPENERS  # "who runs beta.gouv.fr?"
    return "en" if en > fr and (en >= 2 or opens) else "fr"


def clip(text: str, limit: int) -> str:
    """Cut at a sentence or word boundary, adding an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for sep in (". ", " ; ", "; ", ", ", " "):
        at = cut.rfind(sep)
        if at > limit * 0.6:
            return cut[: at + (1 if sep.startswith(".") else 0)].rstrip(" ,;") + " …"
    return cut.rstrip() + " …"


MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def format_date(day: date, lang: str = "fr") -> str:
    """A date as a person writes it: "1er juin 2026", "21 June 2026"."""
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS_FR[day.month - 1]} {day.year}"
