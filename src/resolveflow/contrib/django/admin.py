"""Admin pages: a read-only view of the case of each object that uses ``CaseMixin``.

Mix :class:`CaseAdminMixin` into your ``ModelAdmin``: the change page shows
the case's step, its history and its diagram (Mermaid text, escaped), and
``case_step`` can go in ``list_display``. Nothing here writes to the case.

Example:
    >>> from resolveflow.contrib.django.admin import CaseAdminMixin
    >>> CaseAdminMixin.case_fields
    ('case_step', 'case_history', 'case_diagram')
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from resolveflow import diagrams
from resolveflow.exceptions import ResolveflowError


class CaseAdminMixin:
    """Read-only case fields for a ``ModelAdmin`` of a model using ``CaseMixin``.

    Example::

        @admin.register(Ticket)
        class TicketAdmin(CaseAdminMixin, admin.ModelAdmin):
            list_display = ["subject", "case_step"]
    """

    case_fields: ClassVar[tuple[str, ...]] = ("case_step", "case_history", "case_diagram")

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return fields + tuple(name for name in self.case_fields if name not in fields)

    @admin.display(description="Step")
    def case_step(self, obj: Any) -> str:
        if not getattr(obj, "case_id", None):
            return "—"
        try:
            summary = obj.case_store().summary(obj.case_id)
        except ResolveflowError as error:
            return f"unavailable: {error}"
        return summary.step if summary.outcome is None else f"{summary.step} (closed)"

    @admin.display(description="History")
    def case_history(self, obj: Any) -> str:
        if not getattr(obj, "case_id", None):
            return "—"
        try:
            page = obj.case_store().history(obj.case_id, limit=1000)
        except ResolveflowError as error:
            return format_html("<em>unavailable: {}</em>", str(error))
        rows = format_html_join(
            "\n",
            "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.seq,
                    entry.action,
                    entry.from_step,
                    entry.step,
                    entry.actor + (f" ({', '.join(sorted(entry.roles))})" if entry.roles else ""),
                    entry.at.isoformat(timespec="seconds"),
                )
                for entry in page.entries
            ),
        )
        more = (
            ""
            if page.next_after_seq is None
            else f"The first {len(page.entries)} entries of a longer history."
        )
        return format_html(
            '<table class="resolveflow-history"><thead><tr><th>#</th><th>Action</th><th>Steps</th>'
            "<th>Actor</th><th>At (UTC)</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            more,
        )

    @admin.display(description="Diagram (Mermaid)")
    def case_diagram(self, obj: Any) -> str:
        if not getattr(obj, "case_id", None):
            return "—"
        try:
            case = obj.case
            text = diagrams.to_mermaid(case.methodology, case=case)
        except ResolveflowError as error:
            return format_html("<em>unavailable: {}</em>", str(error))
        return format_html('<pre class="mermaid resolveflow-diagram">{}</pre>', text)
