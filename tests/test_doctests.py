"""Every docstring example in the package runs."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import resolveflow

# Importing Django models needs configured settings, which the main suite never has (pytest-django
# is installed, and must not configure Django here): the example CRM's tests run these examples.
NEEDS_DJANGO_SETTINGS = {"resolveflow.contrib.django.models"}


def modules() -> list[str]:
    names = ["resolveflow"]
    for info in pkgutil.walk_packages(resolveflow.__path__, prefix="resolveflow."):
        if info.name not in NEEDS_DJANGO_SETTINGS:
            names.append(info.name)
    return sorted(names)


# The testing kit's examples call .example() on purpose: they show a strategy interactively.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@pytest.mark.parametrize("name", modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
