"""The Graph API client and the renderer against the Graph API on loopback
(tests/whatsapp/graph_api.py, whose docstring cites Meta's reference for every shape)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.whatsapp.api import GraphClient
from bot.channels.whatsapp.errors import (
    WhatsAppAuthError,
    WhatsAppRateLimited,
    WhatsAppRefused,
    WindowClosed,
)
from bot.channels.whatsapp.format import to_whatsapp
from bot.channels.whatsapp.render import OWN_NUMBER, WhatsAppRenderer
from dialogs.i18n import Catalogs
from dialogs.replies import Button, ButtonKind, Document, Reply, Text
from tests.whatsapp.graph_api import VERSION, FakeGraphApi

pytestmark = pytest.mark.whatsapp
CUSTOMER = "359881234567"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    async with FakeGraphApi() as api:
        yield api


@pytest.fixture
async def client(graph: FakeGraphApi) -> AsyncIterator[GraphClient]:
    client = GraphClient(graph.token, graph.phone_number_id, base=graph.base_url, version=VERSION)
    yield client
    await client.close()


def literal(value: str) -> Text:
    return Text(value, literal=True)


async def test_send_text_and_the_errors_each_code_becomes(
    graph: FakeGraphApi, client: GraphClient
) -> None:
    graph.inbound(CUSTOMER, "text", {"body": "hi"})
    wamid = await client.send(CUSTOMER, {"type": "text", "text": {"body": "Hello"}})
    assert wamid.startswith("wamid.")
    assert graph.to(CUSTOMER)[0].text == "Hello"
    for code, error in [
        (131047, WindowClosed),
        (131056, WhatsAppRateLimited),
        (130429, WhatsAppRateLimited),
        (100, WhatsAppRefused),
    ]:
        graph.fail_next(CUSTOMER, code)
        with pytest.raises(error) as raised:
            await client.send(CUSTOMER, {"type": "text", "text": {"body": "again"}})
        assert raised.value.code == code
        assert CUSTOMER not in str(raised.value)
        assert graph.token not in str(raised.value)
    assert [code for _, code in graph.refused] == [131047, 131056, 130429, 100]
    assert len(graph.to(CUSTOMER)) == 1


async def test_a_refused_token_and_an_over_long_text(graph: FakeGraphApi) -> None:
    graph.inbound(CUSTOMER, "text", {"body": "hi"})
    wrong = GraphClient("EAAwrong", graph.phone_number_id, base=graph.base_url, version=VERSION)
    with pytest.raises(WhatsAppAuthError) as raised:
        await wrong.send(CUSTOMER, {"type": "text", "text": {"body": "Hello"}})
    assert "EAAwrong" not in str(raised.value)
    await wrong.close()
    right = GraphClient(graph.token, graph.phone_number_id, base=graph.base_url, version=VERSION)
    with pytest.raises(WhatsAppRefused):
        await right.send(CUSTOMER, {"type": "text", "text": {"body": "x" * 4097}})
    await right.close()
    assert graph.sent == []


async def test_media_round_trip_and_the_size_limit(
    graph: FakeGraphApi, client: GraphClient
) -> None:
    picture = b"\x89PNG\r\n" + bytes(range(256)) * 40
    media_id = graph.add_media(picture, "image/png")
    media = await client.download(media_id, max_bytes=1 << 20)
    assert (media.content, media.mime_type, media.size) == (picture, "image/png", len(picture))
    with pytest.raises(WhatsAppRefused):
        await client.download(media_id, max_bytes=1000)
    uploaded = await client.upload(b'{"a": 1}', "mydata.json", "application/json")
    assert graph.media[uploaded].content == b'{"a": 1}'
    assert graph.media[uploaded].filename == "mydata.json"


def test_html_subset_becomes_whatsapp_formatting() -> None:
    assert to_whatsapp("Contract <b>A123456</b>: <i>active</i>") == "Contract *A123456*: _active_"
    assert to_whatsapp("<b> spaced </b>&amp; &lt;ok&gt;") == " *spaced* & <ok>"
    assert to_whatsapp('<a href="https://x.example/p">the page</a>') == (
        "the page (https://x.example/p)"
    )
    # a customer's own characters never pair up into formatting
    shown = to_whatsapp("jan_kowalski_2@example.pl *not bold*")
    assert shown.replace("\u200b", "") == "jan_kowalski_2@example.pl *not bold*"
    assert "_k" not in shown
    assert "*n" not in shown


@pytest.fixture(scope="module")
def renderer() -> WhatsAppRenderer:
    return WhatsAppRenderer(Catalogs())


def test_choices_become_buttons_a_list_or_numbered_lines(renderer: WhatsAppRenderer) -> None:
    def choices(n: int, label: str = "Option {}") -> Reply:
        buttons = tuple(Button(literal(label.format(i)), data=f"c:{i}") for i in range(1, n + 1))
        return Reply(literal("Pick one"), buttons)

    three = renderer.reply(choices(3), "en")
    [message] = three.messages
    assert message["interactive"]["type"] == "button"
    assert [b["reply"]["id"] for b in message["interactive"]["action"]["buttons"]] == [
        "c:1",
        "c:2",
        "c:3",
    ]
    [listed] = renderer.reply(choices(4), "en").messages
    assert listed["interactive"]["type"] == "list"
    assert listed["interactive"]["action"]["button"] == "Choose"
    long = renderer.reply(choices(2, "A label much longer than twenty {}"), "en").messages[0]
    assert long["interactive"]["type"] == "list"  # a button title over 20 characters: a list
    row = long["interactive"]["action"]["sections"][0]["rows"][0]
    assert len(row["title"]) <= 24
    assert row["description"] == "A label much longer than twenty 1"
    eleven = renderer.reply(choices(11), "de")
    [numbered] = eleven.messages
    assert numbered["type"] == "text"
    assert "1. Option 1" in numbered["text"]["body"]
    assert "11. Option 11" in numbered["text"]["body"]
    assert "Antworten Sie mit der Nummer" in numbered["text"]["body"]
    assert eleven.menu == tuple(f"c:{i}" for i in range(1, 12))


def test_links_contact_and_documents(renderer: WhatsAppRenderer) -> None:
    link = Button(literal("Set my password"), ButtonKind.LINK, "https://onboard.example.com/p/t")
    back = Button(literal("Back"), data="nav:back")
    rendered = renderer.reply(Reply(literal("Open the page."), (link, back)), "bg")
    kinds = [m["type"] for m in rendered.messages]
    assert kinds == ["text", "interactive", "interactive"]
    assert rendered.messages[1]["interactive"]["action"]["parameters"] == {
        "display_text": "Set my password",
        "url": "https://onboard.example.com/p/t",
    }
    assert rendered.messages[2]["interactive"]["body"]["text"] == "Моля, изберете:"
    share = Button(literal("Share my phone number"), ButtonKind.CONTACT)
    [own] = renderer.reply(Reply(literal("Your phone?"), (share,)), "kk").messages
    assert own["interactive"]["action"]["buttons"][0]["reply"]["id"] == OWN_NUMBER
    document = Document("mydata.json", '{"a": 1}')
    rendered = renderer.reply(Reply(Text("Your <b>data</b>"), document=document), "en")
    assert rendered.document == document
    assert rendered.caption == "Your *data*"
