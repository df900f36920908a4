"""The password page names the product of the flow that sent the customer there (issue 17,
item 16): it said "customer portal" for every flow, the video consultation too."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from dialogs.flow import FLOWS_DIR, load_flow
from dialogs.i18n import Catalogs
from dialogs.steps.handoff import PAGE_INTRO
from tests.conftest import make_settings
from tests.web.helpers import Clock, page_bed, write_flow
from tests.web.test_pages_http import browser

pytestmark = pytest.mark.stumbles

CATALOGS = Catalogs()
DE = load_flow(FLOWS_DIR / "de-video-consultation.yaml")
VIDEO_INTRO = DE.steps["password"].options.page_intro  # type: ignore[attr-defined]


def test_the_video_consultation_flow_names_its_own_product() -> None:
    assert VIDEO_INTRO != PAGE_INTRO
    assert "video consultation" in VIDEO_INTRO
    assert "Videosprechstunde" in CATALOGS.gettext(VIDEO_INTRO, "de")
    assert "Kundenportal" not in CATALOGS.gettext(VIDEO_INTRO, "de")


@pytest.mark.parametrize("locale", ["de", "en", "pl"])
async def test_the_page_says_what_the_flow_says(tmp_path: Path, locale: str) -> None:
    flows = tmp_path / "flows"
    write_flow(flows, "video", page_intro=VIDEO_INTRO)
    write_flow(flows, "portal")
    async with page_bed(make_settings(tmp_path), flows, Clock()) as bed, browser() as session:
        pages = {}
        for user, flow_id in enumerate(("video", "portal"), start=1):
            url = bed.local(await bed.start(flow_id, user=user, locale=locale))
            async with session.get(url) as response:
                assert response.status == 200
                pages[flow_id] = html.unescape(await response.text())
    assert CATALOGS.gettext(VIDEO_INTRO, locale) in pages["video"]
    assert CATALOGS.gettext(PAGE_INTRO, locale) not in pages["video"]
    assert CATALOGS.gettext(PAGE_INTRO, locale) in pages["portal"]
