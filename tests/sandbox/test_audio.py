"""Recordings' sound, below the API: the cache of rendered seconds."""

from voice.sandbox.audio import BlockCache


def test_the_block_cache_keeps_the_most_recently_used_blocks_up_to_its_size():
    cache = BlockCache(size=2)
    cache.put("first", b"1")
    cache.put("second", b"2")
    cache.get("first")
    cache.put("third", b"3")

    assert len(cache) == 2
    assert cache.get("second") is None
    assert (cache.get("first"), cache.get("third")) == (b"1", b"3")
