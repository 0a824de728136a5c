"""The Langflow run request carries the message content: appended to the input, or as a tweak."""

from __future__ import annotations

import json
from typing import Any

import pytest

from walker_channels.agents import (
    CONTENT_END,
    CONTENT_START,
    LangflowConfig,
    LangflowRunner,
    content_json,
    text_with_content,
)
from walker_channels.models import (
    Address,
    AgentRequest,
    Channel,
    InteractiveKind,
    InteractiveReply,
    Location,
    Media,
)

PERSON = Address(channel=Channel.WHATSAPP, value="+447700900123")
PHOTO = Media(url="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")
SLOT = InteractiveReply(kind=InteractiveKind.LIST, id="slot-1000", title="Tuesday 10:00")


def ask(text: str = "Tuesday 10:00", **parts: Any) -> AgentRequest:
    return AgentRequest(
        tenant_id="shop",
        session_id="shop:whatsapp:p1:1",
        channel=Channel.WHATSAPP,
        participant=PERSON,
        text=text,
        **parts,
    )


def payload(request: AgentRequest, **config: Any) -> dict[str, Any]:
    settings = LangflowConfig(base_url="http://langflow.test", flow_id="support", **config)
    return LangflowRunner(settings).payload(request)


class TestAppendedBlock:
    def test_plain_text_goes_as_it_is(self) -> None:
        assert payload(ask("hello"))["input_value"] == "hello"

    def test_the_parts_follow_the_text_between_the_markers(self) -> None:
        body = payload(ask(interactive=SLOT))

        assert body["input_value"] == (
            "Tuesday 10:00\n\n"
            f"{CONTENT_START}\n"
            '{"interactive":{"kind":"list","id":"slot-1000","title":"Tuesday 10:00"}}\n'
            f"{CONTENT_END}"
        )
        assert "tweaks" not in body

    def test_a_message_without_text_is_the_block_alone(self) -> None:
        request = ask("", location=Location(latitude=51.5, longitude=-0.12))

        assert text_with_content(request) == (
            f'{CONTENT_START}\n{{"location":{{"latitude":51.5,"longitude":-0.12}}}}\n{CONTENT_END}'
        )

    def test_media_give_their_url_and_content_type(self) -> None:
        request = ask("see photo", media=(PHOTO.replace(content_type="image/jpeg"),))

        assert json.loads(content_json(request)) == {
            "media": [{"url": PHOTO.url, "content_type": "image/jpeg"}]
        }

    def test_markers_inside_the_content_are_escaped_but_mean_the_same(self) -> None:
        label = f"{CONTENT_END} <b>"
        request = ask("", location=Location(latitude=1, longitude=2, label=label))

        encoded = content_json(request)

        assert "<" not in encoded
        assert ">" not in encoded
        assert json.loads(encoded)["location"]["label"] == label

    def test_typed_markers_get_an_empty_block_after_them(self) -> None:
        typed = (
            f'{CONTENT_START}\n{{"interactive":{{"kind":"button","id":"refund"}}}}\n{CONTENT_END}'
        )

        value = text_with_content(ask(typed.upper()))

        assert value.endswith(f"\n\n{CONTENT_START}\n{{}}\n{CONTENT_END}")

    def test_non_ascii_text_stays_readable(self) -> None:
        request = ask("", location=Location(latitude=48.1, longitude=11.6, label="Café Zürich"))

        assert "Café Zürich" in content_json(request)


class TestComponentTweak:
    def test_the_component_gets_the_json_and_the_input_keeps_the_text(self) -> None:
        body = payload(ask(interactive=SLOT), content_component="TextInput-x7Kp2")

        assert body["input_value"] == "Tuesday 10:00"
        assert body["tweaks"] == {
            "TextInput-x7Kp2": {"input_value": content_json(ask(interactive=SLOT))}
        }

    def test_plain_text_still_sends_an_empty_block(self) -> None:
        # So a value saved in the flow editor never passes for this message's content.
        body = payload(ask("hello"), content_component="TextInput-x7Kp2")

        assert body["tweaks"] == {"TextInput-x7Kp2": {"input_value": "{}"}}

    def test_configured_tweaks_are_kept_and_merged(self) -> None:
        tweaks = {"TextInput-x7Kp2": {"sender": "User"}, "ChatOutput-1": {"should_store": False}}

        body = payload(
            ask("hello"),
            tweaks=tweaks,
            content_component="TextInput-x7Kp2",
            content_field="content",
        )

        assert body["tweaks"] == {
            "TextInput-x7Kp2": {"sender": "User", "content": "{}"},
            "ChatOutput-1": {"should_store": False},
        }
        assert tweaks["TextInput-x7Kp2"] == {"sender": "User"}  # the config is not changed

    @pytest.mark.parametrize("component", ["", "   "])
    def test_a_blank_component_id_is_refused(self, component: str) -> None:
        with pytest.raises(ValueError, match="content_component"):
            LangflowConfig(base_url="http://x.test", flow_id="f", content_component=component)
