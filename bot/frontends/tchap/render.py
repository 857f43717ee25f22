"""Matrix rendering: the engine's answer as ``m.room.message`` content.

Every message carries a plain ``body`` and an ``org.matrix.custom.html`` ``formatted_body``.
The engine's one piece of markup (``*emphasis*``, :meth:`Answer.spans`) becomes ``<strong>``;
its links become ``<a href>``. Every piece of text is HTML-escaped, and nothing that comes
from a person can ping anyone: ``@room`` and ``@user:server`` get an invisible word joiner after
the ``@`` (in the body and the HTML), and every message says ``"m.mentions": {}`` (intentional
mentions: clients that support them ping only whom the message names there, i.e. nobody).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from bot.answering.answer import Answer, Link, text_spans

HTML_FORMAT = "org.matrix.custom.html"
WORD_JOINER = "\u2060"
MAX_BODY = 20_000  # well under Matrix's 64 KiB event limit, HTML included

# "@room", "@user:server", "@someone": an @ at the start of a word.
_AT = re.compile(r"(?<![\w@])[@\uff20](?=[\w.\-=/+]|$)")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")

Content = dict[str, object]


def defang(text: str) -> str:
    """Text that cannot ping: a word joiner after every word-initial ``@``."""
    return _AT.sub(lambda m: m.group(0) + WORD_JOINER, text)


def escape(text: str) -> str:
    """HTML-escaped, defanged text, for a text node (attributes use ``html.escape(quote=True)``)."""
    return html.escape(defang(text), quote=False)


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://", "mailto:")) else None


def link_html(link: Link) -> str:
    url = _safe_url(link.url)
    title = escape(link.title or link.url)
    if url is None:
        return title
    return f'<a href="{html.escape(url, quote=True)}">{title}</a>'


def _spans_html(spans: Iterable[tuple[str, bool]]) -> str:
    out = []
    for text, strong in spans:
        part = escape(text).replace("\n", "<br>")
        out.append(f"<strong>{part}</strong>" if strong else part)
    return "".join(out)


def message(body: str, formatted: str, *, msgtype: str = "m.text") -> Content:
    """A message content with both forms and no pings."""
    return {
        "msgtype": msgtype,
        "body": body[:MAX_BODY],
        "format": HTML_FORMAT,
        "formatted_body": formatted[: MAX_BODY * 2],
        "m.mentions": {},
    }


def render_answer(answer: Answer, *, intro: str = "") -> Content:
    """The engine's answer: its text, then the source and the related links."""
    en = answer.lang == "en"
    body = [defang(answer.plain)]
    parts = [f"<p>{_spans_html(answer.spans())}</p>"]
    if intro:
        body.insert(0, defang(intro))
        parts.insert(0, f"<p>{escape(intro)}</p>")
    if answer.links:
        source, related = answer.links[0], answer.links[1:]
        label = "Source"
        body.append(f"{label} : {defang(source.title)} {source.url}")
        parts.append(f"<p>{label} : {link_html(source)}</p>")
        if related:
            label = "See also" if en else "Voir aussi"
            body.append(f"{label} :")
            body.extend(f"- {defang(link.title)} {link.url}" for link in related)
            items = "".join(f"<li>{link_html(link)}</li>" for link in related)
            parts.append(f"<p>{label} :</p><ul>{items}</ul>")
    if answer.answered:
        hint = (
            "Did this help? React with 👍 or 👎."
            if en
            else "Cette réponse vous aide ? Réagissez avec 👍 ou 👎."
        )
        body.append(hint)
        parts.append(f"<p><em>{escape(hint)}</em></p>")
    return message("\n".join(body), "".join(parts))


def linkify(text: str) -> str:
    """Escaped text with its http(s) URLs as links and its newlines as ``<br>``."""
    out = []
    at = 0
    for m in _URL.finditer(text):
        out.append(escape(text[at : m.start()]))
        url = m.group(0)
        out.append(f'<a href="{html.escape(url, quote=True)}">{escape(url)}</a>')
        at = m.end()
    out.append(escape(text[at:]))
    return "".join(out).replace("\n", "<br>")


def render_text(text: str, *, notice: bool = False) -> Content:
    """A plain text of ours (help, a form's question, a verdict) with ``*emphasis*`` and URLs."""
    parts = []
    for chunk, strong in text_spans(text):
        html_chunk = linkify(chunk)
        parts.append(f"<strong>{html_chunk}</strong>" if strong else html_chunk)
    plain = "".join(chunk for chunk, _ in text_spans(text))
    return message(defang(plain), "".join(parts), msgtype="m.notice" if notice else "m.text")


def render_lines(lines: Sequence[str]) -> Content:
    return render_text("\n".join(lines))


def in_thread(content: Content, root: str | None, reply_to: str | None = None) -> Content:
    """``content`` placed in the thread rooted at ``root`` (when given), replying to
    ``reply_to`` for clients without threads."""
    if root is None:
        return content
    content = dict(content)
    content["m.relates_to"] = {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": reply_to or root},
    }
    return content
