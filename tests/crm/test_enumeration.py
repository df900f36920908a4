"""No enumeration through the connector: a known and an unknown identity get the same reply,
the same buttons and no mail, and the time the customer waits does not tell them apart.

The CRM on loopback answers about an identity it knows 60 ms later. The figures come from the
benchmark's own measurement (``python -m bench.crm_timing``, 50 identities of each kind);
this test checks the leak is there without padding and gone with it, against bounds far from
the machine's noise: it is no speed measurement.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crm_timing import measure
from tests.crm.server import FakeCrm

pytestmark = pytest.mark.crm
DELAY_MS = 60


async def test_known_and_unknown_identities_look_and_take_the_same(tmp_path: Path) -> None:
    crm = FakeCrm.from_file(known_delay=DELAY_MS / 1000)
    async with crm.serve():
        bare = await measure(crm, tmp_path, lookups=50, padding_ms=0)
        padded = await measure(crm, tmp_path, lookups=50, padding_ms=250)
    print(bare.line())  # quoted in the closing note
    print(padded.line())
    for timing in (bare, padded):
        assert timing.same_replies
        assert timing.mails == 0
    assert bare.difference_ms > DELAY_MS / 2  # the CRM does leak ...
    assert abs(padded.difference_ms) < DELAY_MS / 4  # ... and the padding hides it
    assert min(padded.known_ms, padded.unknown_ms) >= 250
