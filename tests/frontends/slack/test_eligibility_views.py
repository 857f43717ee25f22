"""Block Kit builders for /eligibilite: content, and Slack's limits for every scheme."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from paths import KNOWLEDGE

from bot.eligibility.schemes import (
    Apply,
    Clause,
    Criterion,
    Group,
    Rule,
    Scheme,
    load_schemes,
    verdict,
)
from bot.frontends.slack.eligibility_views import (
    CHECK_CALLBACK,
    PICK_ACTION,
    answers_from_view,
    build_check_modal,
    build_scheme_picker,
    build_verdict_message,
    build_verdict_modal,
    decode_metadata,
)

SCHEMES_DIR = KNOWLEDGE / "schemes"


@pytest.fixture(scope="module")
def schemes() -> dict[str, Scheme]:
    return load_schemes(SCHEMES_DIR)


# --------------------------------------------------------------------------- a limits checker


def _text_objects(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            found.append((path, node))
        for key, value in node.items():
            found.extend(_text_objects(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_text_objects(value, f"{path}[{i}]"))
    return found


def check_blocks(blocks: list[dict[str, Any]], max_blocks: int) -> None:
    assert 0 < len(blocks) <= max_blocks
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        elif kind == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        elif kind == "input":
            assert (
                len(block["label"]["text"]) <= 2000
                and len(block.get("hint", {}).get("text", "")) <= 2000
            )
            assert len(block["block_id"]) <= 255
            element = block["element"]
            assert element["type"] == "checkboxes" and 0 < len(element["options"]) <= 10
            for option in element["options"]:
                assert len(option["text"]["text"]) <= 75
                assert len(option["value"]) <= 150
                assert len(option.get("description", {}).get("text", "")) <= 75
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75
                assert len(element.get("url", "")) <= 3000
                assert element["url"].isascii()
        else:
            assert kind == "divider", kind
    for _path, obj in _text_objects(blocks):
        assert obj["text"].strip(), "Slack refuses empty text objects"


def check_modal(view: dict[str, Any]) -> None:
    assert view["type"] == "modal"
    for key in ("title", "submit", "close"):
        if key in view:
            assert view[key]["type"] == "plain_text" and 0 < len(view[key]["text"]) <= 24, key
    assert len(view.get("private_metadata", "")) <= 3000
    assert len(view.get("callback_id", "")) <= 255
    check_blocks(view["blocks"], 100)
    if any(b["type"] == "input" for b in view["blocks"]):
        assert "submit" in view, "a modal with inputs needs a submit button"
    assert len(json.dumps(view)) < 250_000


def check_message(message: dict[str, Any]) -> None:
    assert message["text"].strip() and len(message["text"]) <= 3000
    check_blocks(message["blocks"], 50)


# --------------------------------------------------------------------------- the form


@pytest.mark.parametrize(
    "sid",
    ["fast", "consolidation", "investigation", "transfert", "intrapreneur", "sponsor", "gamma"],
)
def test_every_form_respects_slack_limits(schemes: dict[str, Scheme], sid: str) -> None:
    scheme = schemes[sid]
    view = build_check_modal(scheme, replacement=schemes.get(scheme.replaced_by or ""))
    check_modal(view)
    assert view["callback_id"] == CHECK_CALLBACK
    assert decode_metadata(view["private_metadata"])["scheme"] == sid


def test_the_form_has_one_optional_checkbox_per_criterion_grouped_with_hints(
    schemes: dict[str, Scheme],
) -> None:
    scheme = schemes["consolidation"]
    view = build_check_modal(scheme)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["label"]["text"] for b in inputs] == [
        "Critères obligatoires",
        "Critères complémentaires",
    ]
    assert all(b["optional"] is True for b in inputs)
    assert [b["hint"]["text"] for b in inputs] == ["Tous requis", "Au moins 1 sur 4"]
    for block, group in zip(inputs, scheme.groups, strict=True):
        options = block["element"]["options"]
        criteria = scheme.in_group(group.id)
        assert [o["value"] for o in options] == [c.id for c in criteria]
        assert [o["text"]["text"] for o in options] == [c.label for c in criteria]
        assert [o["description"]["text"] for o in options] == [c.hint for c in criteria]
    assert view["title"]["text"] == "Consolidation"  # "Éligibilité Consolidation" is 25 characters
    assert build_check_modal(schemes["fast"])["title"]["text"] == "Éligibilité FAST"


def test_the_gamma_form_says_it_is_closed_and_offers_the_fast(schemes: dict[str, Scheme]) -> None:
    view = build_check_modal(schemes["gamma"], replacement=schemes["fast"])
    text = json.dumps(view, ensure_ascii=False)
    assert not [b for b in view["blocks"] if b["type"] == "input"]
    assert "Programme terminé" in text
    assert view["submit"]["text"] == "Vérifier : FAST"
    assert decode_metadata(view["private_metadata"]) == {"scheme": "gamma", "next": "fast"}
    assert "submit" not in build_check_modal(schemes["gamma"])


def test_answers_from_a_submitted_view(schemes: dict[str, Scheme]) -> None:
    scheme = schemes["consolidation"]
    state = {
        "values": {
            "group:obligatoires": {
                "criteria": {
                    "type": "checkboxes",
                    "selected_options": [
                        {"value": "impact-demontre"},
                        {"value": "lettre-de-mission"},
                    ],
                }
            },
            "group:complementaires": {"criteria": {"type": "checkboxes", "selected_options": []}},
            "other": {"criteria": {"selected_options": [{"value": "mutualisation"}]}},
        }
    }
    answers = answers_from_view(scheme, {"state": state})
    assert {k for k, v in answers.items() if v} == {"impact-demontre", "lettre-de-mission"}
    assert set(answers) == {c.id for c in scheme.criteria}
    assert not any(answers_from_view(scheme, {}).values())


def test_the_form_text_is_escaped() -> None:
    scheme = _scheme(
        2, help_text="Écrivez à <!channel> & @here <https://evil|ici>", summary="<@U123> & co"
    )
    text = json.dumps(build_check_modal(scheme), ensure_ascii=False)
    assert "<!channel>" not in text and "<@U123>" not in text and "&amp; co" in text


# --------------------------------------------------------------------------- the verdict


@pytest.mark.parametrize(
    "sid",
    ["fast", "consolidation", "investigation", "transfert", "intrapreneur", "sponsor", "gamma"],
)
@pytest.mark.parametrize("ticked", ["none", "all"])
def test_every_verdict_respects_slack_limits(
    schemes: dict[str, Scheme], sid: str, ticked: str
) -> None:
    scheme = schemes[sid]
    answers = {c.id: ticked == "all" for c in scheme.criteria}
    v = verdict(scheme, answers, today=dt.date(2026, 1, 1))
    check_modal(build_verdict_modal(v))
    check_message(build_verdict_message(v))


def test_not_yet_names_each_missing_criterion_with_help_and_link(
    schemes: dict[str, Scheme],
) -> None:
    scheme = schemes["consolidation"]
    v = verdict(scheme, {"impact-demontre": True})
    view = build_verdict_modal(v)
    text = "\n".join(o["text"] for _p, o in _text_objects(view["blocks"]))
    assert "🟠" in text and "Pas encore éligible" in text
    for c in v.missing:
        assert c.label.replace("'", "'") in text
        assert c.help[:30] in text
    assert (
        "programme-de-consolidation/criteres-de-selection#le-responsable-produit-est-disponible|Voir sur beta.gouv.fr>"
        in text
    )
    assert "il en faut au moins 1, vous en avez 0" in text
    assert "Déjà rempli" in text
    assert view["title"]["text"] == "Verdict Consolidation"


def test_eligible_shows_how_to_apply_the_contact_and_the_deadline(
    schemes: dict[str, Scheme],
) -> None:
    scheme = schemes["consolidation"]
    v = verdict(scheme, {c.id: True for c in scheme.criteria}, today=dt.date(2026, 3, 1))
    message = build_verdict_message(v)
    text = json.dumps(message, ensure_ascii=False)
    assert "✅" in text and "21 juin 2026" in text
    assert "<mailto:contact@beta.gouv.fr|contact@beta.gouv.fr>" in text
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert scheme.apply is not None
    assert (
        buttons[0]["url"] == scheme.apply.url and buttons[0]["text"]["text"] == scheme.apply.label
    )
    assert "Éligible" in message["text"]


def test_accented_urls_are_encoded_for_slack(schemes: dict[str, Scheme]) -> None:
    v = verdict(schemes["fast"], {})
    text = json.dumps(build_verdict_modal(v), ensure_ascii=False)
    assert "https://beta.gouv.fr/fast/s%C3%A9lection#impact" in text


def test_a_huge_scheme_still_fits(schemes: dict[str, Scheme]) -> None:
    scheme = _scheme(40, help_text="Une aide très longue. " * 40)
    v = verdict(scheme, {})
    assert len(v.missing) == 40
    check_modal(build_check_modal(scheme))
    check_modal(build_verdict_modal(v))
    check_message(build_verdict_message(v))


# --------------------------------------------------------------------------- the picker


def test_the_picker_lists_every_scheme_and_says_what_was_not_understood(
    schemes: dict[str, Scheme],
) -> None:
    message = build_scheme_picker(schemes, "pizza <!here>")
    assert message["response_type"] == "ephemeral"
    check_message(message)
    select = message["blocks"][0]["accessory"]
    assert select["type"] == "static_select" and select["action_id"] == PICK_ACTION
    assert sorted(o["value"] for o in select["options"]) == sorted(schemes)
    assert select["options"][-1]["value"] == "gamma"  # past programmes last
    assert all(len(o["text"]["text"]) <= 75 for o in select["options"])
    assert "« pizza &lt;!here&gt; »" in message["blocks"][0]["text"]["text"]
    assert "Je ne connais pas" not in build_scheme_picker(schemes)["text"]


def test_the_picker_without_schemes() -> None:
    message = build_scheme_picker({})
    check_message(message)
    assert "Aucune" in message["text"]


# --------------------------------------------------------------------------- helpers


def _scheme(count: int, help_text: str = "Aide.", summary: str = "Résumé.") -> Scheme:
    groups = tuple(Group(f"g{i}", f"Groupe {i} " + "x" * 60) for i in range((count + 9) // 10))
    criteria = tuple(
        Criterion(
            id=f"c{i}",
            label=f"Critère {i} " + "y" * 60,
            help=help_text,
            group=f"g{i // 10}",
            source=f"https://beta.gouv.fr/demo#c{i}",
            hint="z" * 75,
        )
        for i in range(count)
    )
    return Scheme(
        id="demo",
        title="Démo " * 30,
        short="Démo",
        kind="programme",
        status="open",
        summary=summary,
        source="https://beta.gouv.fr/demo",
        contact="contact@beta.gouv.fr",
        groups=groups,
        criteria=criteria,
        rule=Rule((Clause("all", None),)),
        apply=Apply("https://beta.gouv.fr/candidater", "en ligne.", "Candidater"),
        deadline=dt.date(2030, 1, 1),
    )
