"""Integrations with frameworks, each behind its own extra: :mod:`resolveflow.contrib.django`.

Nothing here is imported by the rest of resolveflow; each integration imports
its framework, so install the extra it names first.

Example:
    >>> import resolveflow.contrib
    >>> resolveflow.contrib.__name__
    'resolveflow.contrib'
"""
