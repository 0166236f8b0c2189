"""Hypothesis strategies for OpenADR 2.0b bodies: raw bytes, byte-level mutations of the Alliance
samples, and tree-level mutations (odd texts, dropped and duplicated elements) that keep the XML
well-formed so the schema check and the decoders are reached. `FUZZ_EXAMPLES` scales every suite
(`make fuzz` runs a long one)."""

import copy
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from lxml import etree

from tests.support.samples import sample_files, wrapped

#: examples per property: thousands in the normal suite, many more with `make fuzz`
SCALE = int(os.environ.get("FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(default: int) -> settings:
    """Hypothesis settings for a fuzz property of `default` examples (FUZZ_EXAMPLES overrides)."""
    return settings(
        max_examples=SCALE or default,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
        database=None,
    )


def sample_bodies(ven_id: str = "ven-fuzz", registration_id: str = "reg-fuzz", vtn_id: str = "CARIFLEX-VTN") -> list[bytes]:
    """Every Alliance sample, wrapped as a VTN receives it, with the given ids."""
    return [wrapped(p, ven_id=ven_id, registration_id=registration_id, vtn_id=vtn_id) for p in sample_files()]


ODD_TEXTS = [
    "",
    " ",
    "-1",
    "0",
    "1e309",
    "NaN",
    "-INF",
    "P",
    "PT",
    "-PT1H",
    "P99999999Y",
    "PT0.5S",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-11-26T10:00:00+14:00",
    "99999999999999999999999",
    "true",
    "x" * 5000,
    "\u202e\u0000"[:1],
    "é☃𝄞",
]

_text = st.one_of(
    st.sampled_from(ODD_TEXTS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@st.composite
def byte_mutants(draw: st.DrawFn, bodies: list[bytes]) -> bytes:
    """A sample with a few byte-level edits: deletions, insertions, replacements, duplication, truncation."""
    body = bytearray(draw(st.sampled_from(bodies)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        if action == "delete":
            del body[position : position + draw(st.integers(1, 64))]
        elif action == "insert":
            body[position:position] = draw(
                st.one_of(st.binary(max_size=16), st.sampled_from([b"<", b">", b"&", b"]]>", b"<!--"]))
            )
        elif action == "replace" and position < len(body):
            body[position] = draw(st.integers(0, 255))
        elif action == "duplicate":
            body[position:position] = body[position : position + draw(st.integers(1, 200))]
        else:
            del body[position:]
    return bytes(body)


@st.composite
def tree_mutants(draw: st.DrawFn, bodies: list[bytes]) -> bytes:
    """A sample with element-level edits; always well-formed XML."""
    root = etree.fromstring(draw(st.sampled_from(bodies)))
    for _ in range(draw(st.integers(1, 5))):
        elements = list(root.iter(etree.Element))  # elements only, not comments
        element = elements[draw(st.integers(0, len(elements) - 1))]
        parent = element.getparent()
        action = draw(st.sampled_from(["text", "text", "text", "drop", "duplicate", "empty", "attribute"]))
        if action == "text" or parent is None:
            element.text = draw(_text)
        elif action == "drop":
            parent.remove(element)
        elif action == "duplicate":
            parent.insert(parent.index(element), copy.deepcopy(element))
        elif action == "empty":
            for child in list(element):
                element.remove(child)
        else:
            element.set(draw(st.sampled_from(["x", "id", "schemaVersion"])), draw(_text))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def any_body(bodies: list[bytes]) -> st.SearchStrategy[bytes]:
    """Raw bytes, byte mutants and tree mutants, in equal measure."""
    return st.one_of(st.binary(max_size=2000), byte_mutants(bodies), tree_mutants(bodies))
