from __future__ import annotations

from onegrid.people.apikeys import digest_of, generate_key, matches, prefix_of


def test_generated_keys_are_unique_and_findable_by_prefix() -> None:
    keys = [generate_key() for _ in range(50)]
    assert len({k.raw for k in keys}) == 50
    for k in keys:
        assert k.raw.startswith(f"og_{k.prefix}_")
        assert prefix_of(k.raw) == k.prefix
        assert len(k.raw) - len(k.prefix) - 4 >= 43  # 256 random bits
        assert k.digest == digest_of(k.raw) and k.raw not in k.digest


def test_match_and_refusals() -> None:
    key = generate_key()
    assert matches(key.raw, key.digest)
    assert matches(f" {key.raw} ", key.digest)
    assert not matches(key.raw[:-1] + ("A" if key.raw[-1] != "A" else "B"), key.digest)
    assert prefix_of("og_short_x") is None
    assert prefix_of("Bearer something") is None
