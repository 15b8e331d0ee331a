"""Guava's murmur3_128 (seed 0) as hex: Kestra's `Hashing.hashToString`.

Kestra names a state-store entry per loop iteration with this hash of `taskrun.value`;
computing the same one keeps Roost's keys Kestra's (`flow_states_tasks-states_name_<hash>`).
MurmurHash3 x64 128-bit, public domain (Austin Appleby); Guava prints h1 then h2, each
little-endian.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_C1 = 0x87C37B91114253D5
_C2 = 0x4CF5AD432745937F


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _fmix(value: int) -> int:
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & _MASK
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & _MASK
    return value ^ (value >> 33)


def _mix_k1(k1: int) -> int:
    return (_rotl((k1 * _C1) & _MASK, 31) * _C2) & _MASK


def _mix_k2(k2: int) -> int:
    return (_rotl((k2 * _C2) & _MASK, 33) * _C1) & _MASK


def murmur3_128(data: bytes) -> bytes:
    h1 = h2 = 0
    blocks = len(data) // 16
    for index in range(blocks):
        k1 = int.from_bytes(data[index * 16:index * 16 + 8], "little")
        k2 = int.from_bytes(data[index * 16 + 8:index * 16 + 16], "little")
        h1 ^= _mix_k1(k1)
        h1 = (_rotl(h1, 27) + h2) & _MASK
        h1 = (h1 * 5 + 0x52DCE729) & _MASK
        h2 ^= _mix_k2(k2)
        h2 = (_rotl(h2, 31) + h1) & _MASK
        h2 = (h2 * 5 + 0x38495AB5) & _MASK
    tail = data[blocks * 16:]
    if tail:
        h2 ^= _mix_k2(int.from_bytes(tail[8:16], "little")) if len(tail) > 8 else 0
        h1 ^= _mix_k1(int.from_bytes(tail[:8], "little"))
    h1 ^= len(data)
    h2 ^= len(data)
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    h1, h2 = _fmix(h1), _fmix(h2)
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    return h1.to_bytes(8, "little") + h2.to_bytes(8, "little")


def hash_to_string(text: str) -> str:
    """Kestra's Hashing.hashToString: murmur3_128 of the UTF-8 text, 32 hex digits."""
    return murmur3_128(text.encode("utf-8")).hex()
