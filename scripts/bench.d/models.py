"""Prints one model name per partition: the first `m<i>` whose partition
(64-bit FNV-1a of the name, modulo the partition count; see the README)
is 0, 1, ... — so an outside producer can write each partition's stream."""
import sys

count = int(sys.argv[1])


def partition(name: str) -> int:
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h % count


found = {}
i = 0
while len(found) < count:
    found.setdefault(partition(f"m{i}"), f"m{i}")
    i += 1
for p in range(count):
    print(found[p])
