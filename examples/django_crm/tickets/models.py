from django.db import models

from resolveflow.contrib.django.models import CaseMixin


class Ticket(CaseMixin):
    resolveflow_methodology = "engage"

    subject = models.CharField(max_length=200)
    customer = models.CharField(max_length=200)
    status = models.CharField(max_length=20, default="new")

    def __str__(self) -> str:
        return self.subject
