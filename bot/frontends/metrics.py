"""Prometheus metrics of one serving process (``/metrics``, prometheus-client).

One :class:`Metrics` per process, with its own registry (no global state): the front end counts
answers and declines, the server times acknowledgements, the hot reload and the registry sync
report their outcomes through the small ``observe_*`` methods. Every name starts with ``bot_``.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from bot.answering.answer import Answer

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.answers = Counter(
            "bot_answers", "Questions answered, by surface", ["surface"], registry=r
        )
        self.declines = Counter(
            "bot_declines", "Questions declined, by reason", ["reason", "surface"], registry=r
        )
        self.answer_seconds = Histogram(
            "bot_answer_seconds",
            "Time to compute an answer (engine), in seconds",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ack_seconds = Histogram(
            "bot_slack_ack_seconds",
            "Time from a Slack request received to its acknowledgement, in seconds",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.reloads = Counter(
            "bot_reloads",
            "Hot reloads, by what was reloaded and result",
            ["what", "result"],
            registry=r,
        )
        self.syncs = Counter(
            "bot_registry_syncs", "Registry syncs, by result", ["result"], registry=r
        )
        self.dedupe_hits = Counter(
            "bot_dedupe_hits",
            "Slack deliveries dropped as already seen, by where they were recognised",
            ["where"],
            registry=r,
        )
        self.records_failed = Counter(
            "bot_records_failed", "Records that could not be stored, by kind", ["kind"], registry=r
        )

    def observe_answer(self, answer: Answer | None, seconds: float, surface: str) -> None:
        """One question: answered, or declined with its reason (``error`` when the engine
        failed)."""
        self.answer_seconds.observe(seconds)
        if answer is None:
            self.declines.labels(reason="error", surface=surface).inc()
        elif answer.answered:
            self.answers.labels(surface=surface).inc()
        else:
            self.declines.labels(reason=answer.intent or "unknown", surface=surface).inc()

    def observe_reload(self, what: str, ok: bool) -> None:
        self.reloads.labels(what=what, result="ok" if ok else "refused").inc()

    def observe_sync(self, result: str) -> None:
        """``updated``, ``unchanged`` or ``failed``."""
        self.syncs.labels(result=result).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
