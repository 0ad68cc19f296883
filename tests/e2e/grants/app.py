"""The `front` component: what Python sees of its host, beside what the Go probe sees."""

import os

import wit_world
from wit_world import exports
from wit_world.imports import probe


class WitWorld(wit_world.WitWorld):
    """World-level exports of `py-side`: it has none."""


def read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError as err:
        return f"error: {err}"


class Front(exports.Front):
    """Implements `test:grants/front@0.1.0`."""

    def report(self) -> str:
        python = f"python: env {sorted(os.environ)}, file {read('/data/hello.txt')!r}"
        go = (
            f"go: GREETING={probe.env_var('GREETING')}, SECRET={probe.env_var('SECRET')}, "
            f"file {probe.read_file('/data/hello.txt')!r}"
        )
        return f"{python}; {go}"
