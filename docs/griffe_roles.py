"""A Griffe extension of the documentation site (mkdocs.yml): the docstrings' Sphinx roles
(``:class:`~.network.Network` ``, ``:func:`aim` ``…) written as code, as the page should show
them, instead of literally. ``~`` keeps the last name only, as Sphinx does."""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|obj|exc|const):`(~?)\.?([^`]+)`")


def _code(match: re.Match) -> str:
    short, name = match.group(1), match.group(2)
    return f"`{name.rsplit('.', 1)[-1] if short else name}`"


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_code, obj.docstring.value)
