"""The chunk layouts of bulletin.export.bwf against the sizes and offsets of EBU Tech 3285 v2 and
AES46-2002, read with the standard library only."""

from __future__ import annotations

import datetime
import struct

from bulletin.export.bwf import Bext, Cart, bext_payload, cart_payload, chunk, loudness_bytes
from tests.export.riff_reader import read_cart

WHEN = datetime.datetime(2026, 12, 5, 5, 31, 4)


def test_bext_is_602_bytes_then_the_coding_history_with_loudness_at_412():
    bext = Bext("T, 2026-12-05", "bulletin", "0" * 32, WHEN, "A=PCM,F=48000,W=16,M=stereo,T=bulletin 1\r\n")
    payload = bext_payload(bext, loudness_bytes(-23.004, 7.456, -1.8, None, float("nan")))
    assert payload[602:] == b"A=PCM,F=48000,W=16,M=stereo,T=bulletin 1\r\n"
    assert payload[320:338] == b"2026-12-0505:31:04"
    assert struct.unpack_from("<IIH", payload, 338) == (0, 0, 2)
    assert payload[348:412] == bytes(64)
    assert struct.unpack_from("<5h", payload, 412) == (-2300, 746, -180, 0x7FFF, 0x7FFF)
    assert payload[422:602] == bytes(180)


def test_a_figure_out_of_16_bits_is_unknown():
    assert struct.unpack("<5h", loudness_bytes(-400.0, 400.0, None, -70.0, 0.0)) == (0x7FFF, 0x7FFF, 0x7FFF, -7000, 0)


def test_cart_is_2048_bytes_with_unused_timers_zero():
    cart = Cart("Title", "Artist", "NEWS0600", "NEWS", "Out.", WHEN, None, "bulletin", "1.0",
                (("AUDs", 0), ("SEGs", 441000)), tag_text="one\r\n")
    payload = cart_payload(cart)
    assert len(payload) == 2048 + 5
    fields = read_cart(payload)
    assert fields["End"] == datetime.datetime(2099, 12, 31, 23, 59, 59)
    assert fields["PostTimers"] == [("AUDs", 0), ("SEGs", 441000)]
    assert payload[684 + 16 : 748] == bytes(48)
    assert fields["TagText"] == "one\r\n"


def test_an_odd_chunk_gets_a_pad_byte_not_counted_in_its_size():
    assert chunk(b"test", b"abc") == b"test" + struct.pack("<I", 3) + b"abc\0"
    assert chunk(b"test", b"ab") == b"test" + struct.pack("<I", 2) + b"ab"
