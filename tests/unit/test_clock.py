"""Ids: random, unique across refills of the random pool, and never repeated by a fork."""

from __future__ import annotations

import os
import re

from omni.platform.clock import new_id, random_hex


def test_ids_have_one_shape_and_do_not_repeat_across_many_pool_refills() -> None:
    ids = [new_id("res") for _ in range(10_000)]  # 160 KB: about forty refills
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"res_[0-9a-f]{32}", i) for i in ids)


def test_a_forked_child_does_not_hand_out_its_parents_next_bytes() -> None:
    random_hex()  # the pool now holds bytes the child would inherit
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write, random_hex().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert child != random_hex()
