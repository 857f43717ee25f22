"""The registry loaders: a site checkout, the API's JSON:API documents, the stored copy."""

from __future__ import annotations

import json
import re
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from api_fakes import REGISTRY_SOURCES, registry_documents
from hypothesis import given
from hypothesis import strategies as st
from paths import SHARED as SHARED_ROOT

from bot.errors import RegistryError
from bot.registry.model import (
    FastGrant,
    Phase,
    Startup,
    load_from_site,
    load_registry,
    load_stored,
    parse_api_documents,
    percent_decode,
    plain_text,
)
from bot.registry.sync import store

SHARED = SHARED_ROOT
SITE = SHARED / "corpus" / "beta.gouv.fr"
API = SHARED / "corpus" / "beta.gouv.fr-api" / "v2.6"


def needs_corpus() -> None:
    if not (SITE / "content" / "_startups").is_dir() or not (API / "startups.json").is_file():
        pytest.skip("../shared/corpus is not here")


def api_docs() -> tuple[Any, Any]:
    needs_corpus()
    startups = json.loads((API / "startups.json").read_text(encoding="utf-8"))
    incubators = json.loads((API / "incubators.json").read_text(encoding="utf-8"))
    return startups, incubators


def startup_item(sid: str, name: str, incubator: str = "dinum", **attrs: Any) -> dict[str, Any]:
    """One startup as the site's API renders it (empty strings for missing values)."""
    attributes = {
        "name": name,
        "pitch": f"Mission de {name}",
        "stats_url": "",
        "contact": f"contact@{sid}.beta.gouv.fr",
        "content_url_encoded_markdown": quote(f"Le service **{name}** aide les usagers."),
        "events": [],
        "phases": [{"name": "investigation", "start": "2023-01-10", "end": "2023-03-01"}],
        "sponsors": [],
        "thematiques": [],
        "technos": [],
        "link": f"https://{sid}.beta.gouv.fr",
    }
    attributes.update(attrs)
    return {
        "id": sid,
        "type": "startup",
        "attributes": attributes,
        "relationships": {"incubator": {"data": {"type": "incubator", "id": incubator}}},
    }


def small_docs() -> tuple[dict[str, Any], dict[str, Any]]:
    startups = {
        "links": {"self": "https://beta.gouv.fr/startups"},
        "data": [
            startup_item("alpha-one", "Alpha One"),
            startup_item("beta-two", "Beta Two", incubator="mtes", link="", contact=""),
        ],
        "included": [
            {
                "id": "/incubateurs/dinum",
                "type": "incubator",
                "attributes": {"title": "Incubateur DINUM", "contact": "contact@beta.gouv.fr"},
            },
            {
                "type": "incubator",
                "id": "/incubateurs/mtes",
                "attributes": {"contact": "", "title": "La Fabrique (MTE)", "website": ""},
            },
        ],
    }
    return startups, {}


# --------------------------------------------------------------------------- site checkout


def test_site_checkout_loads_every_service_and_incubator_quickly() -> None:
    needs_corpus()
    load_from_site(SITE)  # warm the file cache, as a running bot would have it
    t0 = time.perf_counter()
    registry = load_from_site(SITE)
    took = time.perf_counter() - t0
    assert len(registry.startups) == len(list((SITE / "content" / "_startups").glob("*.md")))
    assert len(registry.incubators) == len(list((SITE / "content" / "_incubators").glob("*.md")))
    assert registry.problems == ()
    assert took < 1.0, f"site registry took {took * 1000:.0f} ms"  # ~150 ms measured


def test_site_checkout_reads_the_facts_a_user_asks_for() -> None:
    needs_corpus()
    registry = load_from_site(SITE)
    tchap = registry.startup("tchap")
    assert tchap is not None
    assert tchap.name == "Tchap"
    assert tchap.contact == "tchap@beta.gouv.fr"
    assert tchap.url == "https://beta.gouv.fr/startups/tchap.html"
    phase = tchap.current_phase(date(2026, 8, 21))
    assert phase is not None and phase.name == "acceleration"
    dossier = registry.startup("dossierfacile")
    assert dossier is not None and "locatio" in dossier.aliases
    mtes = registry.incubators["mtes"]
    assert "(MTE)" in mtes.title
    assert "DREAL" in mtes.description  # the page body, as plain text
    assert "<span" not in mtes.short_description
    assert registry.incubators["justice"].address.startswith("35 rue de la Gare")
    domifa = registry.startup("domifa")
    assert domifa is not None and domifa.sponsors == ("dgcs",)  # the administration backing it


def test_site_and_api_give_the_same_facts_for_every_service() -> None:
    startups, incubators = api_docs()
    from_api = parse_api_documents(startups, incubators)
    from_site = load_from_site(SITE)
    assert {s.id for s in from_api.startups} == {s.id for s in from_site.startups}
    for s in from_api.startups:
        other = from_site.startup(s.id)
        assert other is not None
        assert (s.name, s.mission, s.incubator_id, s.contact, s.link, s.phases) == (
            other.name,
            other.mission,
            other.incubator_id,
            other.contact,
            other.link,
            other.phases,
        ), s.id
    assert set(from_api.incubators) == set(from_site.incubators)


def test_a_broken_site_file_is_skipped_and_named(tmp_path: Path) -> None:
    folder = tmp_path / "content" / "_startups"
    folder.mkdir(parents=True)
    (folder / "good.md").write_text(
        "---\ntitle: Bon Service\nmission: Aider\nincubator: dinum\ncontact: a@b.fr\n"
        "phases:\n  - name: construction\n    start: 2024-01-02\n---\nCorps.\n",
        encoding="utf-8",
    )
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    (folder / "nofront.md").write_text("just text\n", encoding="utf-8")
    registry = load_from_site(tmp_path)
    assert [s.id for s in registry.startups] == ["good"]
    assert registry.startups[0].phases == (Phase("construction", date(2024, 1, 2)),)
    assert len(registry.problems) == 2
    assert any(p.startswith("broken.md: skipped") for p in registry.problems)
    assert all("\n" not in p for p in registry.problems)


def test_a_folder_that_is_not_the_site_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no content/_startups folder") as err:
        load_from_site(tmp_path)
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- API documents


@pytest.mark.parametrize("source", REGISTRY_SOURCES)
def test_api_documents_parse_into_the_full_registry(source: str) -> None:
    docs = registry_documents(source)  # the site's snapshot, or the committed fixture
    startups, incubators = json.loads(docs["startups"]), json.loads(docs["incubators"])
    registry = parse_api_documents(startups, incubators)
    assert len(registry.startups) == len(startups["data"])
    assert set(registry.incubators) == set(incubators)
    basegun = registry.startup("basegun")
    assert basegun is not None
    incubator = registry.incubator_of(basegun)
    assert incubator is not None and "Intérieur" in incubator.title
    assert "avenue des Terroirs de France" in incubator.address  # where its premises are
    assert "%20" not in basegun.description and "## Contexte" in basegun.description


def _runs(text: str, n: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_the_fixtures_facts_are_the_sites_and_its_texts_are_ours() -> None:
    """The committed fixture (tests/fixtures/api) carries the site's facts, but its missions
    and descriptions are written by us: no run of six words in common with the site's."""
    startups, incubators = api_docs()
    site = parse_api_documents(startups, incubators)
    docs = registry_documents("fixture")
    ours = parse_api_documents(json.loads(docs["startups"]), json.loads(docs["incubators"]))
    for s in ours.startups:
        real = site.startup(s.id)
        assert real is not None, s.id
        assert (s.name, s.incubator_id, s.link, s.phases) == (
            real.name,
            real.incubator_id,
            real.link,
            real.phases,
        ), s.id
        assert s.contact in ("", real.contact), s.id  # a person's address is left out
        copied = _runs(f"{s.mission} {s.description}") & _runs(f"{real.mission} {real.description}")
        assert not copied, (s.id, copied)
    for iid, inc in ours.incubators.items():
        assert inc.title == site.incubators[iid].title


def test_included_incubators_are_found_despite_their_prefixed_ids() -> None:
    startups, incubators = small_docs()
    registry = parse_api_documents(startups, incubators)
    alpha = registry.startup("alpha-one")
    assert alpha is not None
    incubator = registry.incubator_of(alpha)
    assert incubator is not None and incubator.title == "Incubateur DINUM"
    assert incubator.url == "https://beta.gouv.fr/incubateurs/dinum.html"


def test_empty_strings_read_as_missing_values() -> None:
    startups, incubators = small_docs()
    registry = parse_api_documents(startups, incubators)
    beta = registry.startup("beta-two")
    assert beta is not None
    assert beta.link == "" and beta.contact == ""
    assert beta.phases == (Phase("investigation", date(2023, 1, 10), date(2023, 3, 1)),)
    assert registry.incubators["mtes"].website == ""
    assert beta.description == "Le service **Beta Two** aide les usagers."


@pytest.mark.parametrize(
    ("startups", "incubators", "reason"),
    [
        ([], {}, "startups.json: expected a JSON:API object, got array"),
        ({"data": {"id": "x"}}, {}, "startups.json: expected a 'data' list"),
        ({"errors": [{"title": "Not found"}]}, {}, "startups.json: expected a 'data' list"),
        ({"data": []}, {}, "no service with an id and a name"),
        ({"data": [{"id": "x", "attributes": {}}]}, {}, "no service with an id and a name"),
        (None, {}, "expected a JSON:API object"),
    ],
)
def test_a_wrong_shape_is_refused_with_one_line(
    startups: Any, incubators: Any, reason: str
) -> None:
    with pytest.raises(RegistryError) as err:
        parse_api_documents(startups, incubators)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_incubators_of_the_wrong_shape_are_refused() -> None:
    startups, _ = small_docs()
    with pytest.raises(RegistryError, match=r"incubators\.json: expected an object"):
        parse_api_documents(startups, [{"id": "dinum"}])


def test_one_bad_record_is_skipped_and_the_rest_kept() -> None:
    startups, incubators = small_docs()
    startups["data"].append({"type": "startup"})
    startups["data"].append("nonsense")
    registry = parse_api_documents(startups, incubators)
    assert [s.id for s in registry.startups] == ["alpha-one", "beta-two"]
    assert len(registry.problems) == 2


def test_unreadable_dates_and_phases_do_not_break_a_record() -> None:
    startups, incubators = small_docs()
    startups["data"][0]["attributes"]["phases"] = [
        {"name": "construction", "start": "bientôt", "end": ""},
        {"start": "2024-01-01"},
        {"name": "acceleration", "start": "2024-05-02T10:00:00Z", "end": ""},
    ]
    registry = parse_api_documents(startups, incubators)
    alpha = registry.startup("alpha-one")
    assert alpha is not None
    assert alpha.phases == (
        Phase("construction", None),
        Phase("acceleration", date(2024, 5, 2)),
    )
    current = alpha.current_phase(date(2025, 1, 1))
    assert current is not None and current.name == "acceleration"


# --------------------------------------------------------------------------- current phase


def test_current_phase_is_the_latest_start_not_in_the_future() -> None:
    s = Startup(
        "x",
        "X",
        phases=(
            Phase("investigation", date(2023, 1, 1)),
            Phase("construction", date(2023, 4, 1)),
            Phase("acceleration", date(2030, 1, 1)),
        ),
    )
    phase = s.current_phase(date(2026, 1, 1))
    assert phase is not None and phase.name == "construction"
    assert s.current_phase(date(2022, 1, 1)) is None
    later = s.current_phase(date(2030, 1, 1))
    assert later is not None and later.name == "acceleration"


def test_phases_starting_the_same_day_resolve_to_the_later_stage() -> None:
    # the site lists construction before investigation with one date (56 services do)
    s = Startup(
        "x",
        "X",
        phases=(
            Phase("construction", date(2019, 3, 13)),
            Phase("investigation", date(2019, 3, 13)),
        ),
    )
    phase = s.current_phase(date(2020, 1, 1))
    assert phase is not None and phase.name == "construction"
    stopped = Startup(
        "y",
        "Y",
        phases=(Phase("abandon", date(2022, 11, 30)), Phase("transfere", date(2022, 11, 30))),
    )
    phase = stopped.current_phase(date(2023, 1, 1))
    assert phase is not None and phase.name == "abandon"


def test_phase_labels_say_what_the_status_means() -> None:
    assert Phase("acceleration", None).label() == "en accélération"
    assert "arrêté" in Phase("abandon", None).label()
    assert Phase("opere", None).label().startswith("opéré")
    assert Phase("acceleration", None).label("en") == "in acceleration"
    assert Phase("unknown-status", None).label() == "unknown-status"


# --------------------------------------------------------------------------- stored copy


def test_stored_copy_round_trips_and_load_registry_falls_back_to_it(tmp_path: Path) -> None:
    startups, incubators = small_docs()
    assert load_stored(tmp_path) is None
    assert load_registry(None, tmp_path) is None
    assert load_registry(None, None) is None
    store(tmp_path, (startups, incubators))
    registry = load_registry(None, tmp_path)
    assert registry is not None
    assert [s.id for s in registry.startups] == ["alpha-one", "beta-two"]
    assert registry.source.startswith("stored:")


def test_site_checkout_wins_over_the_stored_copy(tmp_path: Path) -> None:
    needs_corpus()
    store(tmp_path, small_docs())
    registry = load_registry(SITE, tmp_path)
    assert registry is not None and len(registry.startups) > 600


def test_a_corrupt_stored_copy_is_reported_but_does_not_stop_the_bot(tmp_path: Path) -> None:
    (tmp_path / "registry.json").write_text('{"format": 1, "startups": {"doc":', encoding="utf-8")
    with pytest.raises(RegistryError, match="not valid JSON") as err:
        load_stored(tmp_path)
    assert "python -m bot sync" in str(err.value)
    assert load_registry(None, tmp_path) is None


def test_a_stored_copy_of_another_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "registry.json").write_text('{"data": []}', encoding="utf-8")
    with pytest.raises(RegistryError, match="unknown layout"):
        load_stored(tmp_path)


# --------------------------------------------------------------------------- text helpers


@given(st.text())
def test_percent_decoding_gives_back_the_original_text(text: str) -> None:
    encoded = quote(text, safe="")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates cannot be url-encoded by the site either
    assert percent_decode(encoded) == text


@pytest.mark.parametrize("raw", ["100%", "50 % sûr", "%zz", "%C3", "a\\x41"])
def test_percent_decoding_of_odd_input_matches_unquote(raw: str) -> None:
    from urllib.parse import unquote

    assert percent_decode(raw) == unquote(raw)


def test_plain_text_drops_markup_and_keeps_words() -> None:
    md = (
        "## Le problème\n\nUn <span class='x'>**service**</span> pour [les agents](https://x.fr) :\n"
        "- l'administration centrale\n- les DREAL\n\n{% include foo.html %}Fin."
    )
    text = plain_text(md)
    assert (
        text
        == "Le problème. Un service pour les agents : l'administration centrale; les DREAL. Fin."
    )


def test_a_fast_grant_is_read_from_the_api_events_and_from_the_sites_fast_block(
    tmp_path: Path,
) -> None:
    events = [
        {"name": "product_launch", "date": "2021-02-01", "comment": "Mise en ligne"},
        {
            "name": "fast",
            "date": "2022-06-01",
            "comment": "Montant de 150 000€ pour la promotion 9",
        },
        {"name": "fast", "date": "2023-06-01", "comment": "Lauréat du FAST"},  # nothing to read
    ]
    startups = {"data": [startup_item("gamma-three", "Gamma Three", events=events)]}
    grants = parse_api_documents(startups, {}).startup("gamma-three")
    assert grants is not None and grants.fast == (FastGrant(edition=9, amount=150000),)

    site = tmp_path / "site"
    (site / "content" / "_startups").mkdir(parents=True)
    (site / "content" / "_incubators").mkdir(parents=True)
    (site / "content" / "_startups" / "delta.md").write_text(
        "---\ntitle: Delta\nmission: Aider\nincubator: dinum\nphases:\n"
        "  - name: construction\n    start: 2022-01-01\n"
        "fast:\n  promotion: 12\n  montant: 80000\n---\nTexte.\n",
        encoding="utf-8",
    )
    delta = load_from_site(site).startup("delta")
    assert delta is not None and delta.fast == (FastGrant(edition=12, amount=80000),)
