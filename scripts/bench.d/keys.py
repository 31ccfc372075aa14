"""Prints the log stream key of each partition for KEY_PREFIX and PARTITIONS:
`<prefix>:events` for one partition, else `<prefix>:{<tag>}:events` with the
tag of platform::partition::partition_tag (see the README)."""
import sys

prefix, count = sys.argv[1], int(sys.argv[2])


def crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def tag(index: int) -> str:
    def in_slice(t: str) -> bool:
        return (crc16(t.encode()) % 16384) * count // 16384 == index

    if in_slice(f"p{index}"):
        return f"p{index}"
    k = 1
    while not in_slice(f"p{index}.{k}"):
        k += 1
    return f"p{index}.{k}"


for p in range(count):
    print(f"{prefix}:events" if count == 1 else f"{prefix}:{{{tag(p)}}}:events")
