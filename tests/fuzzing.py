"""Hostile requests for any RPC, built from its protobuf descriptor alone, and a call that tells
how the service answered them (for tests/integration/test_fuzz.py)."""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

# Known values by field name ("sku", "location_id", "id", ...), so that some requests name what
# exists and get past "not found" into the handler's deeper checks.
Pool = Mapping[str, Sequence[str]]

# Characters that have broken services elsewhere: NUL (PostgreSQL refuses it), C0/C1 controls,
# line breaks, separators, a BOM, zero-width space, quotes, SQL LIKE wildcards, astral planes.
HOSTILE = (
    "\x00\x01\x08\t\n\r\x1b\x1f\x7f\x80\x85\x9f\u2028\u2029\ufeff\u200b'\"\\%_;/.:- é€😀\U0010ffff"
)
# Lengths at and just past the usual limits (ids 64, text 256), and far past them.
LENGTHS = [64, 65, 256, 257, 1000, 1001, 4096]
# Integers at the edges of the limits (lines 200, pages 500/1000, quantities 10**6) and types.
EDGES = [0, 1, -1, 2, 199, 200, 201, 500, 501, 1000, 1001, 10**6, 10**6 + 1, 2**31 - 1, 2**31]
EDGES += [-(2**31), -(2**31) - 1, 2**32 - 1, 2**32, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1]
EDGES += [10**k for k in range(3, 20)]  # every magnitude: some limit or sum lies between two
FLOAT_EDGES = [0.0, -0.0, 90.0, -90.0, 90.000001, 180.0, -180.0, 180.000001, 1e308, 5e-324]
FLOAT_EDGES += [math.nan, math.inf, -math.inf]
RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
# The hottest request: every field unset or hostile.
HOTTEST = 10
# A long repeated field: one drawn item this many times (a few, past MAX_LINES, far past).
MANY = [10, 200, 201, 1001]


@dataclass(frozen=True)
class Payload:
    """One request message as sent: its bytes, and the message they came from (None when the
    bytes are garbage)."""

    data: bytes
    message: Message | None

    def __repr__(self) -> str:
        if self.message is None:
            return f"<bytes {self.data!r}>"
        text = text_format.MessageToString(self.message, as_one_line=True, as_utf8=False)
        extra = len(self.data) - len(self.message.SerializeToString())
        tail = f" + {self.data[-extra:]!r}" if extra > 0 else ""
        return f"{self.message.DESCRIPTOR.name}({text}){tail}"


class Requests:
    """Strategies for arbitrary messages of any type, from its descriptor. Each field is left
    unset, given a plausible value (a known id, a small count, a defined enum value) or a
    hostile one. How many are hostile varies from none to all (the request's heat): a
    request with one bad field gets past the others' checks to the one that matters.
    Failures shrink towards unset fields and plausible values."""

    def __init__(self, pool: Pool, max_depth: int = 4) -> None:
        self._pool = pool
        self._known = sorted({v for values in pool.values() for v in values}) or ["x"]
        self.max_depth = max_depth

    def payloads(self, descriptor: Descriptor) -> st.SearchStrategy[Payload]:
        """Mostly a whole message; sometimes random bytes, or a message with bytes after it
        (unknown fields, or garbage)."""
        messages = st.integers(0, HOTTEST).flatmap(lambda heat: self.messages(descriptor, heat))
        whole = messages.map(lambda m: Payload(m.SerializeToString(), m))
        garbage = st.binary(max_size=64).map(lambda data: Payload(data, _parsed(descriptor, data)))
        trailed = st.tuples(messages, st.binary(min_size=1, max_size=32)).map(
            lambda pair: Payload(pair[0].SerializeToString() + pair[1], pair[0])
        )
        return _mostly(whole, garbage | trailed)

    def messages(
        self, descriptor: Descriptor, heat: int, depth: int = 0
    ) -> st.SearchStrategy[Message]:
        return _message(self, descriptor, heat, depth)

    def field(self, fd: FieldDescriptor, heat: int, depth: int) -> st.SearchStrategy[Any]:
        """A value for one field: a scalar, a message, or a list or dict of them."""
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            entry = fd.message_type.fields_by_name
            return st.dictionaries(
                self.field(entry["key"], heat, depth),
                self.field(entry["value"], heat, depth),
                max_size=4,
            )
        if fd.message_type is not None:
            one = self.messages(fd.message_type, heat, depth + 1)
        else:
            one = _hot(heat).flatmap(lambda hot: self.hostile(fd) if hot else self.plausible(fd))
        if not fd.is_repeated:
            return one
        cool = st.lists(one, min_size=1, max_size=3)
        many = st.builds(_copies, one, st.sampled_from(MANY), st.booleans())
        return _hot(heat).flatmap(lambda hot: st.lists(one, max_size=12) | many if hot else cool)

    def plausible(self, fd: FieldDescriptor) -> st.SearchStrategy[Any]:
        """A value a well-meaning caller might send."""
        kind = fd.type
        if kind == FieldDescriptor.TYPE_STRING:
            # A new id (an idempotency key, a scan id) must be new: Hypothesis repeats itself.
            fresh = st.uuids().map(lambda u: f"fz-{u.hex[:12]}")
            if fd.name in self._pool:  # a field that names things: mostly what exists
                known = self._known_for(fd.name)
                return st.one_of(known, self._mutated(known), fresh)
            short_id = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,10}", fullmatch=True)
            return st.one_of(fresh, short_id, self._known_for(fd.name))
        if kind == FieldDescriptor.TYPE_BYTES:
            return st.binary(max_size=8)
        if kind == FieldDescriptor.TYPE_BOOL:
            return st.booleans()
        if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return st.floats(-60, 60, width=64 if kind == FieldDescriptor.TYPE_DOUBLE else 32)
        if kind == FieldDescriptor.TYPE_ENUM:
            defined = [v.number for v in fd.enum_type.values]
            return st.sampled_from([n for n in defined if n] or defined)
        return st.integers(1, 5)

    def hostile(self, fd: FieldDescriptor) -> st.SearchStrategy[Any]:
        """Anything the type allows, edges first."""
        kind = fd.type
        if kind == FieldDescriptor.TYPE_STRING:
            return self._strings(fd.name)
        if kind == FieldDescriptor.TYPE_BYTES:
            return st.binary(max_size=64)
        if kind == FieldDescriptor.TYPE_BOOL:
            return st.booleans()
        if kind == FieldDescriptor.TYPE_DOUBLE:
            return st.sampled_from(FLOAT_EDGES) | st.floats()
        if kind == FieldDescriptor.TYPE_FLOAT:
            return st.sampled_from(FLOAT_EDGES[:7] + FLOAT_EDGES[-3:]) | st.floats(width=32)
        if kind == FieldDescriptor.TYPE_ENUM:
            defined = st.sampled_from([v.number for v in fd.enum_type.values])
            if fd.enum_type.is_closed:
                return defined
            return defined | st.integers(-(2**31), 2**31 - 1)  # open enums take any int32
        low, high = RANGES[kind]
        edges = [v for v in EDGES if low <= v <= high]
        return st.integers(max(low, -3), 12) | st.sampled_from(edges) | st.integers(low, high)

    def _known_for(self, name: str) -> st.SearchStrategy[str]:
        return st.sampled_from(list(self._pool.get(name) or self._known))

    def _mutated(self, known: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        """A known value with a few of its runs (of digits, of letters, or one other
        character) replaced, or one of its parts cut short; beneath base64 when it is
        base64 (an opaque token), so that what the service decodes is still almost right."""
        length = st.sampled_from([CUT_SHORT, 1]) | st.integers(0, 6)
        edit = st.tuples(st.integers(0, 63), length, _insertions())
        return st.builds(_mutate, known, st.lists(edit, min_size=1, max_size=2))

    def _strings(self, name: str) -> st.SearchStrategy[str]:
        anything = st.characters(codec="utf-8")  # every code point but surrogates
        hostile = st.text(st.sampled_from(HOSTILE) | anything, min_size=1, max_size=12)
        return st.one_of(
            st.just(""),
            st.sampled_from(self._known),  # an id of another kind of thing
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,70}", fullmatch=True),
            st.from_regex(r"[A-Za-z0-9][._:/-]{1,63}", fullmatch=True),  # all punctuation
            st.text(anything, max_size=40),
            hostile,
            st.builds(_affixed, self._known_for(name), hostile, st.booleans()),
            st.builds(_long, st.text(anything, min_size=1, max_size=4), _lengths()),
        )


def _hot(heat: int) -> st.SearchStrategy[bool]:
    """True `heat` times in ten; shrinks to False."""
    return st.integers(0, 9).map(lambda n: n >= 10 - heat)


def _set_at(heat: int) -> st.SearchStrategy[bool]:
    """Whether a field is set: left unset once in eleven times when cool, six when hottest;
    shrinks to unset, so that a failure shows only the fields it needs."""
    return st.integers(0, 10).map(lambda n: n > heat // 2)


def _mostly(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` four times in five; shrinks towards it."""
    return st.integers(0, 4).flatmap(lambda n: usual if n else rare)


def _copies(item: Any, n: int, numbered: bool) -> list[Any]:
    """`item` n times; numbered: each copy's strings (its own, not nested ones) end in its
    number, so that lines naming a SKU each name another one."""
    if not numbered:
        return [item] * n
    if isinstance(item, str):
        return [f"{item}-{i}" for i in range(n)]
    if not isinstance(item, Message):
        return [item] * n
    copies = []
    for i in range(n):
        copy = type(item)()
        copy.CopyFrom(item)
        for fd, value in item.ListFields():
            if fd.type == FieldDescriptor.TYPE_STRING and not fd.is_repeated:
                setattr(copy, fd.name, f"{value}-{i}")
        copies.append(copy)
    return copies


_RUNS = re.compile(r"[0-9]+|[A-Za-z]+|.", re.DOTALL)
# What separates the parts of a composite value (a token's timestamp from its id, say).
_PART_ENDS = set("|,;&= \n")
# The length of an edit that cuts a part short (its runs from one to the part's end).
CUT_SHORT = -1


def _insertions() -> st.SearchStrategy[str]:
    edges = ["0", "1", "00", "0001", "9999", "99999999999999999999", "-1", "+14:00", "Z", "|"]
    hostile = st.text(st.sampled_from(HOSTILE), max_size=3)
    return st.one_of(st.just(""), st.sampled_from(edges), hostile)


def _mutate(value: str, edits: list[tuple[int, int, str]]) -> str:
    """`value` with, for each edit, its runs [at, at + length) replaced by the text given;
    a length of CUT_SHORT replaces the runs from `at` to the end of that part."""
    inner, wrapped = _unwrapped(value)
    for at, length, text in edits:
        runs = _RUNS.findall(inner)
        at %= len(runs) + 1
        end = at + length
        if length == CUT_SHORT:
            end = next((i for i in range(at, len(runs)) if runs[i] in _PART_ENDS), len(runs))
        inner = "".join(runs[:at]) + text + "".join(runs[end:])
    return wrapped(inner)


def _unwrapped(value: str) -> tuple[str, Callable[[str], str]]:
    """The text beneath a urlsafe-base64 value, and how to wrap text again; else the value."""
    try:
        inner = base64.urlsafe_b64decode(value.encode()).decode()
    except ValueError:
        return value, lambda text: text
    if len(value) < 8 or not inner.isprintable():
        return value, lambda text: text
    return inner, lambda text: base64.urlsafe_b64encode(text.encode()).decode()


def _lengths() -> st.SearchStrategy[int]:
    return st.sampled_from(LENGTHS) | st.integers(1, 5000)


def _affixed(known: str, extra: str, before: bool) -> str:
    return extra + known if before else known + extra


def _long(unit: str, length: int) -> str:
    return (unit * length)[:length]


def _parsed(descriptor: Descriptor, data: bytes) -> Message | None:
    try:
        return GetMessageClass(descriptor).FromString(data)
    except DecodeError:
        return None


@st.composite
def _message(
    draw: st.DrawFn, requests: Requests, descriptor: Descriptor, heat: int, depth: int
) -> Message:
    message = GetMessageClass(descriptor)()
    if depth > requests.max_depth:
        return message
    # At most one member of each oneof (proto3 `optional` fields are one-member oneofs).
    chosen = {
        oneof.name: draw(st.sampled_from(list(oneof.fields))) if draw(_set_at(heat)) else None
        for oneof in descriptor.oneofs
    }
    for fd in descriptor.fields:
        oneof = fd.containing_oneof
        present = chosen[oneof.name] is fd if oneof is not None else draw(_set_at(heat))
        if present:
            _set(message, fd, draw(requests.field(fd, heat, depth)))
    return message


def _set(message: Message, fd: FieldDescriptor, value: Any) -> None:
    target = getattr(message, fd.name)
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        valued = fd.message_type.fields_by_name["value"].message_type is not None
        for key, item in value.items():
            if valued:
                target[key].CopyFrom(item)
            else:
                target[key] = item
    elif fd.is_repeated and fd.message_type is not None:
        for item in value:
            target.add().CopyFrom(item)
    elif fd.is_repeated:
        target.extend(value)
    elif fd.message_type is not None:
        target.CopyFrom(value)
    else:
        setattr(message, fd.name, value)


@dataclass
class Answer:
    """How a call ended: its status code and message, and the answers read (OK: a stream we
    cut short ourselves, too)."""

    code: grpc.StatusCode
    details: str
    answers: list[Message] = field(default_factory=list)

    def in_band_codes(self) -> list[int]:
        """Status codes carried inside answers (a message with an integer `code`, like a
        scan's error)."""
        return [code for answer in self.answers for code in _codes(answer)]


def _codes(message: Message) -> list[int]:
    found: list[int] = []
    for fd, value in message.ListFields():
        if fd.name == "code" and fd.cpp_type == FieldDescriptor.CPPTYPE_INT32:
            found.append(value)
        elif fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
            for item in value if fd.is_repeated else [value]:
                found += _codes(item)
    return found


async def call(
    channel: grpc.aio.Channel,
    method: MethodDescriptor,
    payloads: Sequence[Payload],
    *,
    deadline: float,
    read: int = 2,
) -> Answer:
    """Calls `method` with the payload (several, for a stream of requests); reads a unary
    answer, up to `read` answers of a stream before cutting it short, or every answer of a
    stream of requests (which ends once it has answered them all)."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    reply = GetMessageClass(method.output_type)
    data = [p.data for p in payloads]
    answers: list[Message] = []
    try:
        if not method.server_streaming:
            raw = await channel.unary_unary(path)(data[0], timeout=deadline)
            return Answer(grpc.StatusCode.OK, "", [reply.FromString(raw)])
        if method.client_streaming:
            stream = channel.stream_stream(path)(iter(data), timeout=deadline)
        else:
            stream = channel.unary_stream(path)(data[0], timeout=deadline)
        async for raw in stream:
            answers.append(reply.FromString(raw))
            if len(answers) >= read and not method.client_streaming:
                stream.cancel()
                return Answer(grpc.StatusCode.OK, "", answers)
        return Answer(await stream.code(), await stream.details() or "", answers)
    except grpc.aio.AioRpcError as exc:
        return Answer(exc.code(), exc.details() or "", answers)
