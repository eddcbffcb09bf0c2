import json

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

import resolveflow
from resolveflow.store import ConcurrencyConflict
from tickets.models import Ticket


@login_required
@require_POST
def fire(request: HttpRequest, pk: int, action: str) -> JsonResponse:
    """Take an action on a ticket's case as the signed-in user, with their roles."""
    ticket = get_object_or_404(Ticket, pk=pk)
    try:
        evidence = json.loads(request.body or b"null")
        with transaction.atomic():
            entry = ticket.fire(
                action,
                evidence,
                user=request.user,
                expected_seq=int(request.headers["If-Match"]) if "If-Match" in request.headers else None,
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
            ticket.status = entry.step
            ticket.save(update_fields=["status"])
    except json.JSONDecodeError:
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    except resolveflow.Refused as error:
        return JsonResponse({"refusals": [r.to_json() for r in error.refusals]}, status=409)
    except resolveflow.InvalidEvidence as error:
        return JsonResponse(
            {"fields": {path or "(form)": problem for path, problem in error.errors}}, status=422
        )
    except ConcurrencyConflict:
        return JsonResponse({"error": "the case moved on: reload it"}, status=412)
    except (resolveflow.UnknownAction, resolveflow.InvalidInput, ValueError) as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"seq": entry.seq, "step": entry.step})
