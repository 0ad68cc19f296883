"""The `reporter` component (Python): turns the analyzer's numbers into a sentence."""

import wit_world
from wit_world import exports
from wit_world.imports import stats


class WitWorld(wit_world.WitWorld):
    """World-level exports of `reporter`: it has none."""


class Report(exports.Report):
    """Implements `textstats:app/report@0.1.0`."""

    def render(self, text: str) -> str:
        summary = stats.analyze(text, 3)
        if summary.words == 0:
            return "no words"
        top = ", ".join(f"{entry.word} ×{entry.count}" for entry in summary.top)
        return f"{summary.words} words, {summary.unique} unique; top: {top}"
