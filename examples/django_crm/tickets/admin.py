from django.contrib import admin

from resolveflow.contrib.django.admin import CaseAdminMixin
from tickets.models import Ticket


@admin.register(Ticket)
class TicketAdmin(CaseAdminMixin, admin.ModelAdmin):
    list_display = ["subject", "customer", "status", "case_step"]
