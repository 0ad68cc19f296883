"""`ranker`: word ranking, the service's data processing. Implements
`example:wordsvc/ranking`."""

import re
from collections import Counter

import wit_world
from wit_world import exports
from wit_world.exports import ranking


class WitWorld(wit_world.WitWorld):
    """World-level exports of `ranker`: it has none."""


class Ranking(exports.Ranking):
    """Implements `example:wordsvc/ranking@0.1.0`."""

    def top(self, text: str, limit: int) -> list[ranking.Entry]:
        counts = Counter(re.findall(r"[\w']+", text.lower()))
        # Most frequent first; ties in order of first appearance (the sort is stable).
        ranked = sorted(counts.items(), key=lambda item: -item[1])
        return [ranking.Entry(word=word, count=count) for word, count in ranked[:limit]]
