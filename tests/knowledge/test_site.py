"""Indexing a checkout of the site's source: pages mixing markdown, DSFR HTML and Liquid
come out as plain-text sections with their headings, anchors and public URLs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.site import page_docs, page_sections

SITE = "https://beta.gouv.fr"
LEFTOVER = re.compile(r"\{%|%\}|\{\{|\}\}|</?[a-zA-Z][^>]*>|&nbsp;|\*\*")

MIXED_PAGE = """\
---
layout: with-sidebar
title: Identifier le problème
permalink: /approche/exemple
breadcrumbs:
  - title: Accueil
    link: /
---
{% include header.html title=page.title %}
# Identifier le problème

Une introduction en **markdown** avec un [lien](https://example.org/x) vers ailleurs.

<section>
<div class="fr-grid-row">
  <div class="fr-col-4">
    <nav class="fr-sidemenu" aria-label="Menu latéral">
      <button class="fr-sidemenu__btn">Dans cette rubrique</button>
      <ul class="fr-sidemenu__list">
        <li><a class="fr-sidemenu__link" href="#pourquoi">1. Sommaire pourquoi&nbsp;?</a></li>
        <li><a class="fr-sidemenu__link" href="#condition">2. Sommaire conditions&nbsp;?</a></li>
      </ul>
    </nav>
  </div>
  <div class="fr-col-8">
    <div id="pourquoi">
      <h3>Quel est l’enjeu ?</h3>
      <p>Partir du problème vécu par les usagers&nbsp;: {{ site.data.slogan }} pas d’une solution.</p>
    </div>
    <div id="condition">
      <h3>Quelles sont les conditions à réunir ?</h3>
      <p>
        ✅ libérer un agent public au moins deux jours par semaine ;<br />
        ✅ autoriser le télétravail de cette personne.
      </p>
    </div>
  </div>
</div>
</section>

## Une section en markdown {#section-markdown}

Du texte {% if page.extra %}conditionnel{% endif %} écrit en markdown, assez long.

### Une sous-section sans ancre

Encore du texte pour la dernière section de la page.
"""


@pytest.fixture
def site(tmp_path: Path, write_pages) -> Path:
    """A tiny checkout of the site: one mixed page, a redirect, a page without permalink,
    a FAST edition."""
    return write_pages(
        tmp_path / "site",
        {
            "_pages/programme/exemple.md": MIXED_PAGE,
            "_pages/ancien.md": "---\ntitle: Ancien\npermalink: /ancien\nredirect_to: /approche/exemple\n---\nUne page qui redirige ailleurs maintenant.\n",
            "_pages/brouillon.md": "---\ntitle: Brouillon\n---\nUne page sans permalink, jamais publiée.\n",
            "content/_fasts/07_fast.md": "---\ntitle: FAST 7 - Juin 2021\n---\n<h1>FAST 7 - Juin 2021</h1>\n<p>Neuf lauréats ont été retenus pour cette septième édition du fonds.</p>\n",
        },
    )


@pytest.fixture
def docs(site: Path) -> list:  # type: ignore[type-arg]
    return page_docs(site)


def by_title(docs: list, title: str):  # type: ignore[no-untyped-def,type-arg]
    found = [d for d in docs if d.title == title]
    assert found, f"no section titled {title!r} in {[d.title for d in docs]}"
    return found[0]


def test_html_headings_become_sections_with_their_div_anchor(docs: list) -> None:  # type: ignore[type-arg]
    condition = by_title(docs, "Quelles sont les conditions à réunir ?")
    assert condition.url == f"{SITE}/approche/exemple#condition"
    assert "deux jours par semaine" in condition.text
    assert "télétravail" in condition.text
    pourquoi = by_title(docs, "Quel est l’enjeu ?")
    assert pourquoi.url == f"{SITE}/approche/exemple#pourquoi"
    assert "pas d’une solution" in pourquoi.text


def test_markdown_headings_become_sections_with_their_anchor(docs: list) -> None:  # type: ignore[type-arg]
    section = by_title(docs, "Une section en markdown")
    assert section.url == f"{SITE}/approche/exemple#section-markdown"
    assert "écrit en markdown" in section.text
    sub = by_title(docs, "Une sous-section sans ancre")
    assert sub.url == f"{SITE}/approche/exemple"


def test_the_text_before_the_first_section_is_kept_as_plain_text(docs: list) -> None:  # type: ignore[type-arg]
    intro = " ".join(d.text for d in docs if d.url == f"{SITE}/approche/exemple")
    assert "Une introduction en markdown avec un lien vers ailleurs." in intro


def test_no_tag_liquid_or_markdown_markup_is_left(docs: list) -> None:  # type: ignore[type-arg]
    assert docs
    for doc in docs:
        assert not LEFTOVER.search(doc.text), doc.text
        assert not LEFTOVER.search(doc.title), doc.title
        assert "example.org" not in doc.text


def test_navigation_menus_stay_out_of_the_text(docs: list) -> None:  # type: ignore[type-arg]
    everything = " ".join(d.text + " " + d.title for d in docs)
    assert "Sommaire" not in everything
    assert "Dans cette rubrique" not in everything


def test_every_url_is_the_site_plus_the_permalink(docs: list) -> None:  # type: ignore[type-arg]
    pages = {unquote(d.url.split("#")[0]) for d in docs}
    assert pages == {f"{SITE}/approche/exemple", f"{SITE}/fast/lauréats"}


def test_redirects_and_pages_without_permalink_are_not_indexed(docs: list) -> None:  # type: ignore[type-arg]
    everything = " ".join(d.text for d in docs)
    assert "redirige" not in everything
    assert "jamais publiée" not in everything


def test_a_fast_edition_is_indexed_at_its_laureats_url(docs: list) -> None:  # type: ignore[type-arg]
    fast = [d for d in docs if "07_fast" in d.url]
    assert fast
    assert "Neuf lauréats" in " ".join(d.text for d in fast)


@pytest.mark.parametrize("marker", ["#", "##"])
def test_a_heading_made_only_of_liquid_does_not_swallow_the_next_paragraph(marker: str) -> None:
    body = f"{marker} {{{{ page.title }}}}\n\nLe paragraphe d'introduction reste du texte.\n\n## Suite {{#suite}}\n\nLa suite de la page.\n"
    sections = page_sections(body, "Titre")
    texts = " ".join(text for _, _, text in sections)
    titles = [title for title, _, _ in sections]
    assert "Le paragraphe d'introduction reste du texte." in texts
    assert all("introduction" not in title for title in titles)


# --- properties: any mix of markdown, HTML and Liquid --------------------------------

word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàç", min_size=2, max_size=10)
sentence = st.lists(word, min_size=4, max_size=12).map(" ".join)
anchor = st.from_regex(r"[a-z][a-z0-9-]{1,15}", fullmatch=True)
liquid = st.sampled_from(
    [
        "{% include callout.html %}",
        "{{ page.title }}",
        "{%- if x -%}",
        "{% endif %}",
        "{{ site.data.x | upcase }}",
    ]
)


@st.composite
def block(draw: st.DrawFn) -> tuple[str, str | None, str, str]:
    """(source, anchor, heading, text) of one section, in one of the site's styles."""
    heading = draw(sentence)
    text = draw(sentence)
    ident = draw(st.one_of(st.none(), anchor))
    noise = draw(liquid)
    style = draw(st.sampled_from(["markdown", "div", "h-id"]))
    if style == "markdown":
        suffix = f" {{#{ident}}}" if ident else ""
        source = f"## {heading}{suffix}\n\n{text} {noise}\n"
    elif style == "div":
        attr = f' id="{ident}"' if ident else ""
        source = (
            f'<div{attr} class="fr-col">\n  <h3>{heading}</h3>\n  <p>{text}</p>{noise}\n</div>\n'
        )
    else:
        attr = f' id="{ident}"' if ident else ""
        source = f"<h4{attr}>{heading}</h4>\n<p>{noise}{text}</p>\n"
    return source, ident, heading, text


@settings(max_examples=150)
@given(
    st.lists(block(), min_size=1, max_size=6, unique_by=(lambda b: b[2], lambda b: b[1] or b[2]))
)
def test_any_mix_of_styles_gives_each_heading_its_anchor_and_text(blocks: list) -> None:  # type: ignore[type-arg]
    body = "\n".join(source for source, _, _, _ in blocks)
    sections = page_sections(body, "Page")
    for _, ident, heading, text in blocks:
        matching = [s for s in sections if s[0] == heading]
        assert matching, (heading, sections)
        title, got_anchor, got_text = matching[0]
        assert got_anchor == ident
        assert text in got_text
        assert not LEFTOVER.search(title + " " + got_text)


@settings(max_examples=200)
@given(st.text(max_size=500))
def test_any_page_body_is_indexed_without_raising(body: str) -> None:
    for title, _, text in page_sections(body, "Page"):
        assert isinstance(title, str)
        assert isinstance(text, str)


# --- the real site (skipped without ../shared) ------------------------------------------


@pytest.fixture(scope="module")
def corpus_docs(corpus_dir: Path) -> list:  # type: ignore[type-arg]
    return page_docs(corpus_dir)


def test_the_investigation_page_has_its_conditions_section(corpus_docs: list) -> None:  # type: ignore[type-arg]
    condition = [d for d in corpus_docs if d.url == f"{SITE}/approche/investigation#condition"]
    assert len(condition) == 1
    assert "deux jours" in condition[0].text


def test_the_real_site_leaves_no_markup_in_any_section(corpus_docs: list) -> None:  # type: ignore[type-arg]
    assert len(corpus_docs) > 50
    for doc in corpus_docs:
        assert doc.url.startswith(f"{SITE}/")
        assert not re.search(r"\{%|\{\{|</?(div|p|h\d|a|span|ul|li|nav)\b", doc.text), doc.url


def test_the_real_site_has_a_section_for_each_phase_page(corpus_docs: list) -> None:  # type: ignore[type-arg]
    pages = {unquote(d.url.split("#")[0]) for d in corpus_docs}
    for phase in ("investigation", "construction", "acceleration", "transfert"):
        assert f"{SITE}/approche/{phase}" in pages
