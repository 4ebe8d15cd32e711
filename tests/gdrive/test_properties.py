"""Metadata <-> Drive properties: the 124-byte and 30-property limits, and reading 0.4's properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from cc_backend_gdrive.properties import MAX_PUBLIC_PROPERTIES, PROPERTY_BYTES, decode_properties, encode_properties
from cc_core.errors import MetadataError


def fits(properties) -> bool:
    return all(len(p["key"].encode()) + len(p["value"].encode()) <= PROPERTY_BYTES for p in properties)


def test_short_values_are_one_public_property_each():
    properties = encode_properties({"dtype": "<f8", "shape": "2,3"})
    assert properties == [{"key": "dtype", "value": "<f8", "visibility": "PUBLIC"},
                          {"key": "shape", "value": "2,3", "visibility": "PUBLIC"}]


def test_long_values_are_split_and_joined_back():
    value = "é" * 300  # 600 bytes, split on character boundaries
    properties = encode_properties({"note": value})
    assert len(properties) > 5 and fits(properties)
    assert [p["key"] for p in properties][:2] == ["cc-0-note", "cc-1-note"]
    assert decode_properties(reversed(properties)) == {"note": value}


def test_part_numbers_with_more_digits_still_fit():
    value = "x" * 3000  # more than 10 parts: keys grow by a digit
    properties = encode_properties({"k": value})
    assert len(properties) > 10 and fits(properties)
    assert decode_properties(properties) == {"k": value}


def test_limits_are_reported_with_the_object_name():
    with pytest.raises(MetadataError, match=f"'obj' needs 31 .*allows {MAX_PUBLIC_PROPERTIES}"):
        encode_properties({f"k{i}": "v" for i in range(31)}, "obj")
    with pytest.raises(MetadataError, match="too long"):
        encode_properties({"k" * 120: "value"}, "obj")


def test_private_properties_of_04_are_read_and_public_ones_win():
    properties = [{"key": "dtype", "value": "<i4", "visibility": "PRIVATE"},
                  {"key": "shape", "value": "3", "visibility": "PRIVATE"},
                  {"key": "shape", "value": "4", "visibility": "PUBLIC"}]
    assert decode_properties(properties) == {"dtype": "<i4", "shape": "4"}
    assert decode_properties(None) == {}


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
                       .filter(lambda k: not k.startswith("cc-")),
                       st.text(st.characters(blacklist_categories=("Cs",)), max_size=200), max_size=4))
def test_round_trip(metadata):
    try:
        properties = encode_properties(metadata)
    except MetadataError:
        return
    assert fits(properties) and len(properties) <= MAX_PUBLIC_PROPERTIES
    assert decode_properties(properties) == metadata
