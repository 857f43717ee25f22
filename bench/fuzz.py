"""Fuzz campaign: hostile input over parsing, normalisation, escaping and scrubbing.

    python bench/fuzz.py                      # the long campaign: 100,000 inputs
    python bench/fuzz.py --inputs 2000        # a short one (tests/test_fuzz.py runs this in CI)
    python bench/fuzz.py --only scrub --seed 7

Every input is a pure function of (family, index, seed), so a failure is reproduced by its
index (``--only FAMILY --start N --inputs 1``). Per family it counts:

- crashes: any exception out of a function that must be total;
- slow: one call taking over 1 s on an input (an input still running after 10 s is stopped by
  an alarm and counted as slow); "slowest" is the slowest input, all its calls together;
- wrong: a broken invariant (escaped text that could ping or break out of markup, a ``check``
  line that is not ``file:line: message``, a clip longer than its limit...);
- kept: personal data still present in what the records would store (scrub family).

Families (shares of the total): ``text`` (normalisation: fold, normalize, strip_slack, tokens,
detect_lang, clip), ``escape`` (safe_text, from_slack, clip, link), ``scrub`` (record_form with
one piece of personal data per input), ``parsing`` (a knowledge page or scheme file mutated, then
parsed by the safe loader: impossible dates, tags, bombs, deep nesting, garbage bytes...).
Prints one line per family and exits 1 when anything is counted.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answering import text as T  # noqa: E402
from bot.eligibility.schemes import parse_scheme  # noqa: E402
from bot.frontends.slack import escape as E  # noqa: E402
from bot.knowledge.pages import parse_page  # noqa: E402
from bot.records.store import record_form  # noqa: E402

_T = TypeVar("_T")
SHARES = {"text": 0.30, "escape": 0.25, "scrub": 0.25, "parsing": 0.20}
SLOW_S = 1.0
STOP_S = 10
KNOWLEDGE = ROOT / "knowledge"

# ------------------------------------------------------------------------------- generators

QUESTIONS = [
    "combien dure la construction ?", "c'est quoi le FAST ?", "qui contacter pour le fast",
    "Dans quelle phase est DossierFacile ?", "how long is construction?",
    "critères du programme de consolidation", "comment devenir intrapreneur",
    "quelle est la recette des crêpes ?", "l'accélération c koi", "SE en transfert ?",
]  # fmt: skip
MARKUP = [
    "<!channel>", "<!here>", "<!everyone>", "<!here|here>", "<@U012ABCDEF>", "<@U012ABCDEF|jean>",
    "<#C012ABCDEF|general>", "<https://evil.example/x|cliquez ici>", "<https://evil.example>",
    "<mailto:a@evil.example|a@evil.example>", "<!subteam^S0123ABC|@admins>", "&lt;!channel&gt;",
    "&amp;lt;!here&amp;gt;", "<<!channel>>", "<!channel", "!channel>", "@here", "＠here",
    "@\u2060here", "<javascript:alert(1)|x>", "<https://beta.gouv.fr|<!here>>", "|", ">", "<",
    "&", "&#60;!channel&#62;", "`<!here>`", "*<!here>*", "_@channel_", "\uff1c!channel\uff1e",
    "<@U1 ", "@jean:tchap.gouv.fr",
]  # fmt: skip
ODD = [
    "😀", "👩‍💻", "🇫🇷", "مرحبا", "\u202eFAST\u202c", "\x00", "\x7f", "\r\n", "\u2028", "\ufeff",
    "\u200b", "\u00a0", "e\u0301", "ﬁ", "ẞ", "İ", "\U0001d400", "\ud800", "\udfff", "\uffff",
]  # fmt: skip
PUNCT = list("!?.,;:'\"()[]{}<>/\\|@#$%^&*-_=+~`«»…—–‘’“”")


def _codepoint(r: random.Random) -> str:
    k = r.random()
    if k < 0.5:
        return chr(r.randint(0x20, 0x7E))
    if k < 0.7:
        return chr(r.randint(0xA0, 0x24F))
    if k < 0.85:
        return chr(r.randint(0x250, 0xFFFF))
    if k < 0.95:
        return chr(r.randint(0x10000, 0x10FFFF))
    return chr(r.randint(0, 0x1F))


def hostile_text(r: random.Random, max_len: int = 100_000) -> str:
    """A hostile message; about 2% are ``max_len`` characters of one repeated unit."""
    shape = r.random()
    if shape < 0.02:
        unit = r.choice(QUESTIONS + MARKUP + ODD + ["a", "<", "@", "é", " "])
        return (unit * (max_len // len(unit) + 1))[:max_len]
    if shape < 0.08:
        return "".join(r.choice(PUNCT) for _ in range(r.randint(1, 60)))
    if shape < 0.25:
        return "".join(_codepoint(r) for _ in range(r.randint(0, 200)))
    parts = [r.choice(r.choice((QUESTIONS, MARKUP, MARKUP, ODD))) for _ in range(r.randint(1, 8))]
    return r.choice([" ", "", "\n", "\t"]).join(parts)


def _digits(r: random.Random, n: int) -> str:
    return "".join(str(r.randint(0, 9)) for _ in range(n))


def personal_data(r: random.Random) -> tuple[str, str, str]:
    """(kind, text as typed, the secret that must not be stored)."""
    kind = r.choice(["iban", "nir", "phone", "email", "slack", "matrix", "name"])
    sep = r.choice(["", " ", ".", "-"])
    if kind == "iban":
        body = r.choice(["FR", "DE", "BE", "fr"]) + _digits(r, 25)
        text = r.choice([" ", ""]).join(body[i : i + 4] for i in range(0, len(body), 4))
        return kind, text, re.sub(r"\D", "", text)[-10:]
    if kind == "nir":
        parts = [r.choice("12"), _digits(r, 2), f"{r.randint(1, 12):02d}",
                 r.choice(["75", "2A", "2B", "13"]), _digits(r, 3), _digits(r, 3), _digits(r, 2)]  # fmt: skip
        text = sep.join(parts)
        return kind, text, re.sub(r"\D", "", text)[-8:]
    if kind == "phone":
        tail = sep.join(_digits(r, 2) for _ in range(4))
        first = str(r.randint(1, 9))
        text = r.choice([f"0{first}{sep}", f"+33 {first}{sep}", f"+33 (0){first}{sep}",
                         f"(0){first}{sep}", f"0033 {first}{sep}"]) + tail  # fmt: skip
        return kind, text, re.sub(r"\D", "", text)[-8:]
    local = "".join(r.choice("bcdfghjklmnpqrstvz") for _ in range(6)) + _digits(r, 2)
    if kind == "email":
        at = r.choice(["@", "(at)", "[at]", " at ", " arobase ", " @ "])
        dot = r.choice([".", " dot ", "[dot]", "(point)"])
        return kind, f"{local}{at}exemple{dot}fr", local
    if kind == "slack":
        ident = "U" + _digits(r, 3) + "".join(r.choice("ABCDEFGH") for _ in range(7))
        ident = r.choice([ident, ident.lower()])
        text = r.choice([ident, f"<@{ident}>", f"<@{ident}|{local}>", f"@{local}"])
        return kind, text, local if local in text else ident.lower()
    if kind == "matrix":
        return kind, f"@{local}:{r.choice(['tchap.gouv.fr', 'matrix.org'])}", local
    first = r.choice("BCDFGHJKLMNPRSTVZ") + "".join(
        r.choice("aeiou") + r.choice("lmnrstv") for _ in range(3)
    )
    last = r.choice("BCDFGHJKLMNPRSTVZ") + "".join(
        r.choice("aeiou") + r.choice("lmnrstvx") for _ in range(4)
    )
    return kind, f"{first} {last}", last.lower()


BAD_VALUES = [
    "[1, 2, 3]", "{a: b}", "null", "~", "123", "1.5e308", ".nan", "true", "no", "2026-13-45",
    "2026-02-30", "!!binary aGVsbG8=", "!!python/object:os.system ls", "!!set {a, b}",
    "!!timestamp nope", "*undefined", "&a [*a]", "'unterminated", '"bad \\x', "[", "{", "|",
    "? complex key", '"\\ud800"', "0x1F", "'<!channel>'", "[" * 60 + "]" * 60, "x" * 5000,
]  # fmt: skip


def bomb(levels: int) -> bytes:
    lines = ["_0: &a0 [lol]"]
    for i in range(1, levels):
        lines.append(f"_{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines).encode()


def mutate(r: random.Random, data: bytes) -> tuple[str, bytes]:
    """One hostile variant of a knowledge or scheme file: (mutation, bytes)."""
    kind = r.choice([
        "truncate", "garbage", "flip", "wrong_type", "wrong_type", "bomb", "deep", "utf8", "bom",
        "crlf", "tabs", "dup_line", "drop_line", "swap", "empty", "huge_line", "huge_file",
    ])  # fmt: skip
    lines = data.split(b"\n")
    if kind == "truncate":
        data = data[: r.randint(0, len(data))]
    elif kind == "garbage":
        at = r.randint(0, len(data))
        data = data[:at] + bytes(r.getrandbits(8) for _ in range(r.randint(1, 300))) + data[at:]
    elif kind == "flip":
        b = bytearray(data)
        for _ in range(r.randint(1, 20)):
            b[r.randrange(len(b))] = r.getrandbits(8)
        data = bytes(b)
    elif kind == "wrong_type":
        idx = [i for i, ln in enumerate(lines) if b":" in ln and not ln.startswith(b"#")]
        for _ in range(r.randint(1, 4)):
            if idx:
                i = r.choice(idx)
                lines[i] = lines[i].split(b":", 1)[0] + b": " + r.choice(BAD_VALUES).encode()
        data = b"\n".join(lines)
    elif kind == "bomb":
        at = 1 if lines and lines[0].strip() == b"---" else 0
        key = r.choice([b"aliases", b"title", b"kind", b"criteria", b"id"])
        levels = r.choice([6, 9, 10])
        lines[at:at] = [bomb(levels), key + f"_x: *a{levels - 1}".encode()]
        data = b"\n".join(lines)
    elif kind == "deep":
        at = 1 if lines and lines[0].strip() == b"---" else 0
        depth = r.choice([50, 500, 5000, 50_000])
        lines.insert(at, b"aliases_x: " + b"[" * depth + b"]" * depth)
        data = b"\n".join(lines)
    elif kind == "utf8":
        at = r.randint(0, len(data))
        data = (
            data[:at] + r.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82"]) + data[at:]
        )
    elif kind == "bom":
        data = b"\xef\xbb\xbf" + data
    elif kind == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif kind == "tabs":
        data = data.replace(b"  ", b"\t")
    elif kind == "dup_line":
        i = r.randrange(len(lines))
        lines.insert(i, lines[i])
        data = b"\n".join(lines)
    elif kind == "drop_line":
        del lines[r.randrange(len(lines))]
        data = b"\n".join(lines)
    elif kind == "swap":
        i, j = r.randrange(len(lines)), r.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        data = b"\n".join(lines)
    elif kind == "empty":
        data = b""
    elif kind == "huge_line":
        lines.insert(r.randrange(len(lines) + 1), b"x" * r.choice([10_000, 1_000_000]))
        data = b"\n".join(lines)
    else:  # huge_file
        data = data + b"\n" + "Du texte qui se répète. ".encode() * r.choice([20_000, 200_000])
    return kind, data


# ------------------------------------------------------------------------------- families


class Wrong(AssertionError):
    """A broken invariant."""


class Kept(AssertionError):
    """Personal data still in what would be stored."""


class Slow(Exception):
    """One call took more than SLOW_S seconds."""


def call(func: Callable[..., _T], *args: object) -> _T:
    """``func(*args)``, raising Slow when that one call takes over SLOW_S seconds."""
    t0 = time.perf_counter()
    result = func(*args)
    took = time.perf_counter() - t0
    if took > SLOW_S:
        raise Slow(f"{getattr(func, '__name__', func)} took {took:.2f} s")
    return result


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Wrong(message)


_RAW = re.compile(r"<[!@#]|(?<![A-Za-z0-9])[@\uff20](?!\u2060)(here|channel|everyone)\b", re.I)


def fam_text(r: random.Random, _ctx: Context) -> None:
    s = hostile_text(r)
    for f in (T.fold, T.normalize, T.strip_slack, T.deaccent):
        check(isinstance(call(f, s), str), f"{f.__name__} did not return text")
    call(T.words, s)
    call(T.tokens, s)
    call(T.detect_lang, s)
    check(T.detect_lang(s[:2000]) in ("fr", "en"), "detect_lang")
    limit = r.randint(0, 500)
    check(len(call(T.clip, s, limit)) <= limit + 2, f"clip({limit}) too long")


def fam_escape(r: random.Random, _ctx: Context) -> None:
    s = hostile_text(r)
    safe = call(E.safe_text, s)
    check(E.is_safe(safe), f"safe_text not safe: {safe[:80]!r}")
    check(E.unescape_mrkdwn(E.escape_mrkdwn(s)) == s, "escape/unescape round trip")
    shown = E.safe_text(call(E.from_slack, s, "UBOT0001"))
    check(E.is_safe(shown) and not _RAW.search(shown), f"from_slack+safe_text: {shown[:80]!r}")
    limit = r.randint(0, 400)
    cut = E.clip(safe, limit)
    check(len(cut) <= limit and E.is_safe(cut), f"clip({limit}) broke length or safety")
    made = E.link(
        r.choice(["https://beta.gouv.fr/x", s[:80], "javascript:x", "mailto:a@b.c"]), s[:200]
    )
    label = made.split("|", 1)[1][:-1] if made.startswith("<") else made
    check(E.is_safe(label), f"link label not safe: {label[:80]!r}")


def fam_scrub(r: random.Random, _ctx: Context) -> None:
    kind, value, secret = personal_data(r)
    noise = hostile_text(r, max_len=2000)[:200] if r.random() < 0.5 else ""
    question = r.choice(
        [value, f"{noise} {value} {r.choice(QUESTIONS)}", f"{r.choice(QUESTIONS)} {value}"]
    )
    stored = call(record_form, question)
    check(isinstance(stored, str), "record_form did not return text")
    if kind in ("iban", "nir", "phone"):
        leaked = secret in re.sub(r"\D", "", stored)
    else:
        leaked = secret.lower() in stored.lower()
    if leaked:
        raise Kept(f"{kind} {value!r} -> {stored[-120:]!r}")


@dataclass
class Context:
    tmp: Path
    pages: list[Path] = field(default_factory=list)
    schemes: list[Path] = field(default_factory=list)


_LINE = re.compile(r"^.+:\d+: .+$")


def fam_parsing(r: random.Random, ctx: Context) -> None:
    scheme = r.random() < 0.5
    src = r.choice(ctx.schemes if scheme else ctx.pages)
    _kind, data = mutate(r, src.read_bytes())
    path = ctx.tmp / ("fuzz.yaml" if scheme else "fuzz.md")
    path.write_bytes(data)
    _parsed, problems = call(parse_scheme, path) if scheme else call(parse_page, path, ctx.tmp)
    check(len(problems) <= 20, f"{len(problems)} problems for one file")
    for problem in problems:
        line = str(problem)
        check(bool(_LINE.match(line)) and "\n" not in line, f"not file:line: {line[:100]!r}")
        check(len(line) <= 1000, f"a problem line of {len(line)} characters")


FAMILIES: dict[str, Callable[[random.Random, Context], None]] = {
    "text": fam_text,
    "escape": fam_escape,
    "scrub": fam_scrub,
    "parsing": fam_parsing,
}


# ------------------------------------------------------------------------------- runner


class Stopped(Exception):
    """An input still running after STOP_S seconds."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Stopped


@dataclass
class Tally:
    inputs: int = 0
    crash: int = 0
    slow: int = 0
    wrong: int = 0
    kept: int = 0
    slowest_s: float = 0.0
    examples: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return self.crash + self.slow + self.wrong + self.kept


def run_family(name: str, start: int, count: int, seed: int, ctx: Context) -> Tally:
    func = FAMILIES[name]
    tally = Tally()
    for index in range(start, start + count):
        r = random.Random(f"{name}:{seed}:{index}")
        kind = None
        t0 = time.perf_counter()
        signal.alarm(STOP_S)
        try:
            func(r, ctx)
        except Stopped:
            kind, message = "slow", f"still running after {STOP_S} s"
        except Slow as exc:
            kind, message = "slow", str(exc)
        except Kept as exc:
            kind, message = "kept", str(exc)
        except Wrong as exc:
            kind, message = "wrong", str(exc)
        except Exception as exc:  # a crash is what this campaign looks for
            kind = "crash"
            message = (
                f"{type(exc).__name__}: {exc}"[:200]
                + " | "
                + traceback.format_exc().splitlines()[-3].strip()
            )
        finally:
            signal.alarm(0)
        took = time.perf_counter() - t0
        tally.slowest_s = max(tally.slowest_s, took)
        tally.inputs += 1
        if kind is not None:
            setattr(tally, kind, getattr(tally, kind) + 1)
            if len(tally.examples) < 5:
                tally.examples.append(f"{name} #{index} (seed {seed}) {kind}: {message}")
    return tally


@contextlib.contextmanager
def context() -> Iterator[Context]:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        pages = sorted(
            p for p in KNOWLEDGE.rglob("*.md") if p.name != "README.md" and "schemes" not in p.parts
        )
        yield Context(Path(tmp), pages, sorted((KNOWLEDGE / "schemes").glob("*.yaml")))


def campaign(total: int, seed: int, only: list[str], start: int = 0) -> dict[str, Tally]:
    names = only or list(SHARES)
    weights = sum(SHARES[n] for n in names)
    out: dict[str, Tally] = {}
    record_form("Jean Dupont, la construction ?")  # loads the vocabularies once, untimed
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        with context() as ctx:
            for name in names:
                count = max(1, round(total * SHARES[name] / weights))
                out[name] = run_family(name, start, count, seed, ctx)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=100_000, help="total inputs (default 100,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="first input index (to reproduce one)")
    ap.add_argument("--only", default="", help="comma-separated families: " + ", ".join(SHARES))
    a = ap.parse_args(argv)
    only = [f for f in a.only.split(",") if f]
    t0 = time.perf_counter()
    results = campaign(a.inputs, a.seed, only, a.start)
    print("| family | inputs | crashes | over 1 s | wrong | personal data kept | slowest |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, t in results.items():
        print(
            f"| {name} | {t.inputs:,} | {t.crash} | {t.slow} | {t.wrong} | {t.kept} | {t.slowest_s * 1000:.0f} ms |"
        )
    total = sum(t.inputs for t in results.values())
    failures = sum(t.failures for t in results.values())
    print(
        f"\n{total:,} inputs in {time.perf_counter() - t0:.0f} s, seed {a.seed}: {failures} failure(s)"
    )
    for t in results.values():
        for example in t.examples:
            print("  " + example)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
