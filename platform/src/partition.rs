//! Which partition a model lives in, and which hash tag a partition's keys
//! carry. Both are part of the public contract: a producer that writes to
//! the log itself computes them the same way (the README gives them).

/// The partition of the model `name` among `count`: the 64-bit FNV-1a hash
/// of the name's bytes, modulo `count`. Stable across versions and
/// platforms; with one partition, always 0.
#[must_use]
pub fn partition_of(name: &str, count: u32) -> u32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let hash = name.bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    (hash % u64::from(count.max(1))) as u32
}

/// Redis Cluster's slot count.
pub const SLOTS: u16 = 16_384;

/// The hash tag of partition `index` among `count`: `p<index>` if its slot
/// lies in the `index`-th of `count` equal slices of the slot space, else
/// `p<index>.<k>` for the least `k ≥ 1` whose slot does. A cluster whose
/// masters hold equal contiguous ranges (what `redis-cli --cluster create`
/// makes) thus gets the partitions spread evenly over its masters.
#[must_use]
pub fn partition_tag(index: u32, count: u32) -> String {
    let in_slice =
        |tag: &str| u32::from(crc16(tag.as_bytes()) % SLOTS) * count / u32::from(SLOTS) == index;
    let plain = format!("p{index}");
    if in_slice(&plain) {
        return plain;
    }
    // Each try lands in the slice with probability 1/count: a few tries.
    (1..)
        .map(|k| format!("p{index}.{k}"))
        .find(|tag| in_slice(tag))
        .unwrap_or(plain)
}

/// The cluster slot of `key`: CRC16 of its hash tag (the text between the
/// first `{` and the next `}`, if non-empty), else of the whole key.
#[must_use]
pub fn key_slot(key: &str) -> u16 {
    crc16(hash_tag(key).unwrap_or(key).as_bytes()) % SLOTS
}

/// The hash tag of `key`, as Redis Cluster reads it.
#[must_use]
pub fn hash_tag(key: &str) -> Option<&str> {
    let open = key.find('{')?;
    let rest = &key[open + 1..];
    let close = rest.find('}')?;
    (close > 0).then(|| &rest[..close])
}

/// CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with (the
/// `crc16` crate, as redis-rs's own slot routing uses it).
#[must_use]
pub fn crc16(bytes: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster_keyslot() {
        // Values from `CLUSTER KEYSLOT` on Redis 7.
        assert_eq!(key_slot("foo"), 12182);
        assert_eq!(key_slot("{user1000}.following"), key_slot("user1000"));
        assert_eq!(key_slot("foo{}{bar}"), crc16(b"foo{}{bar}") % SLOTS);
        assert_eq!(crc16(b"123456789"), 0x31c3);
    }

    /// Written down in the README; a change here breaks deployments. The
    /// values were computed with the README's Python (`partition` in
    /// `scripts/bench.d/models.py`), whose hashes of "", "a" and "foobar"
    /// (0xcbf29ce484222325, 0xaf63dc4c8601ec8c, 0x85944171f73967e8) are the
    /// published FNV-1a 64 test vectors; `u32::MAX` keeps 32 bits of the hash.
    #[test]
    fn partitions_are_the_readme_s_fnv_1a_values() {
        let pinned: [(&str, [u32; 5]); 7] = [
            ("", [1, 5, 5, 801_432, 1_343_537_162]),
            ("a", [0, 4, 12, 783_675, 895_863_001]),
            ("foobar", [0, 0, 8, 281_224, 2_093_853_018]),
            ("default", [2, 0, 14, 149_899, 1_909_353_237]),
            ("arm-0", [0, 2, 8, 220_031, 1_315_282_079]),
            ("m0", [0, 2, 8, 137_223, 3_187_286_975]),
            ("checkout-b", [2, 2, 10, 629_926, 3_034_318_943]),
        ];
        for (name, expected) in pinned {
            let counts = [4, 6, 16, 1_000_003, u32::MAX];
            let got = counts.map(|count| partition_of(name, count));
            assert_eq!(got, expected, "{name:?} over {counts:?}");
        }
    }

    #[test]
    fn partitions_are_stable_and_spread() {
        assert_eq!(partition_of("anything", 1), 0);
        let mut seen = [0u32; 4];
        for i in 0..4_000 {
            seen[partition_of(&format!("m{i}"), 4) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1_200).contains(&n)), "{seen:?}");
    }

    #[test]
    fn every_tag_lands_in_its_slice() {
        for count in [2, 3, 4, 6, 16, 64] {
            for index in 0..count {
                let tag = partition_tag(index, count);
                let slot = u32::from(key_slot(&format!("{{{tag}}}")));
                assert_eq!(slot * count / u32::from(SLOTS), index, "{tag}");
            }
        }
    }
}
