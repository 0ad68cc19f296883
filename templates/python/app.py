"""The `{{name}}` component: implements the `{{world}}` world in `wit/`.

`wcomp build` turns this module into a WebAssembly component with componentize-py: each
exported interface is a class named after it, and world-level exports are methods of `WitWorld`.
"""

import wit_world
from wit_world import exports


class WitWorld(wit_world.WitWorld):
    """World-level exports of `{{world}}`: it has none, everything is in `text`."""


class Text(exports.Text):
    """Implements the `text` interface of `wit/world.wit`."""

    def describe(self, input: str) -> str:
        words = len(input.split())
        characters = len(input)
        return f"{words} words, {characters} characters"
