"""Each step an associate takes on a pickup task: one call to the pickup service, and what
it did, said in words."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping

import grpc

from omni.console.backends import Refused
from omni.console.sessions import Session
from omni.console.views.scanning import sku_for
from omni.console.web import Console
from omni.pickup.v1 import pickup_pb2 as pb

Done = tuple[pb.PickupTask, str]  # the task after the step, and what the step did
Step = Callable[[Console, Session, str, Mapping[str, str]], Awaitable[Done]]


async def start(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    req = pb.StartPickingRequest(id=task, associate_id=who.caller.subject)
    reply = await app.backends.call("pickup", app.backends.pickup.StartPicking, req, who.token)
    return reply.task, "Picking started. Scan each item into the pickup bay."


async def pick(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    typed = form.get("code", "").strip()
    if not typed:
        raise Refused("pickup", _BLANK, "Scan an item, or type its SKU, then press Enter.")
    sku = await sku_for(app.backends, typed, who.token)
    req = pb.RecordPickRequest(id=task, scan_id=form.get("scan_id", ""), sku=sku, quantity=1)
    reply = await app.backends.call("pickup", app.backends.pickup.RecordPick, req, who.token)
    if reply.duplicate:
        return reply.task, f"That scan of {sku} was recorded already; nothing changed."
    line = next((x for x in reply.task.lines if x.sku == sku), None)
    done = f" ({line.picked} of {line.quantity})" if line else ""
    return reply.task, f"Picked 1 of {sku}{done}."


async def shortage(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    sku, missing = form.get("sku", ""), _count(form.get("missing", ""))
    req = pb.ReportShortageRequest(
        id=task, sku=sku, missing=missing, associate_id=who.caller.subject
    )
    reply = await app.backends.call("pickup", app.backends.pickup.ReportShortage, req, who.token)
    then = _POLICY.get(reply.policy, "")
    return reply.task, f"Reported {missing} of {sku} missing. {then}"


async def ready(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    req = pb.MarkReadyRequest(id=task)
    reply = await app.backends.call("pickup", app.backends.pickup.MarkReady, req, who.token)
    return reply.task, "Ready for collection. The customer is sent their pickup code."


async def handover(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    code = form.get("code", "").strip()
    if not code:
        raise Refused("pickup", _BLANK, "Type the code the customer shows you.")
    if not _CODE_SHAPE.fullmatch(code.replace("-", "").replace(" ", "")):
        # Not a code at all (a mistyped field, a scanned barcode): no try is used up on it.
        raise Refused("pickup", _BLANK, "A pickup code has 8 letters and digits, like ABCD-2345.")
    req = pb.CompletePickupRequest(id=task, code=code, associate_id=who.caller.subject)
    reply = await app.backends.call("pickup", app.backends.pickup.CompletePickup, req, who.token)
    return reply.task, "Handed over. The order is collected."


async def unlock(app: Console, who: Session, task: str, form: Mapping[str, str]) -> Done:
    req = pb.UnlockPickupRequest(id=task, manager_id=who.caller.subject)
    reply = await app.backends.call("pickup", app.backends.pickup.UnlockPickup, req, who.token)
    return reply.task, "Unlocked. The customer may try their code again."


def _count(text: str) -> int:
    """A typed number of units (1 or more)."""
    typed = text.strip()
    if not typed.isdecimal() or len(typed) > 6 or int(typed) == 0:
        raise Refused("pickup", _BLANK, "Enter how many units are missing (1 or more).")
    return int(typed)


_POLICY = {
    pb.SHORTAGE_POLICY_SHIP_TO_HOME: "They will be sent from elsewhere to the customer's home.",
    pb.SHORTAGE_POLICY_SHIP_TO_STORE: (
        "They will be sent to this store from elsewhere. Pick the rest now; the order is "
        "ready once they arrive and are picked too."
    ),
    pb.SHORTAGE_POLICY_CANCEL: "They are cancelled and refunded.",
}
_BLANK = grpc.StatusCode.INVALID_ARGUMENT
_CODE_SHAPE = re.compile(r"[A-Za-z0-9]{8}")

STEPS: dict[str, Step] = {
    "start": start,
    "pick": pick,
    "shortage": shortage,
    "ready": ready,
    "handover": handover,
    "unlock": unlock,
}
