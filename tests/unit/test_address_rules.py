"""Each channel's address rule: what a recipient a person typed must look like, as data on the
channel's spec (ChannelSpec.address), and errors that never repeat the value."""

from __future__ import annotations

import pytest

from walker_channels.channels import DEFAULT_ADDRESS_RULES, ChannelSpec, any_address
from walker_channels.exceptions import InvalidAddress, InvalidPhoneNumber
from walker_channels.meta import META_WHATSAPP, MetaConfig, meta_channel
from walker_channels.models import Address, Channel
from walker_channels.telegram import TELEGRAM, TelegramConfig, telegram_channel
from walker_channels.testing import RecordingTransport
from walker_channels.testing.telegram_server import BOT_TOKEN

PAGER = Channel.define("pager")


def test_a_channel_without_a_rule_takes_any_visible_address_stripped() -> None:
    spec = ChannelSpec(name=PAGER, transport=RecordingTransport(PAGER), label="Pager")

    assert spec.recipient("  desk-17@floor3 ") == Address(channel=PAGER, value="desk-17@floor3")


@pytest.mark.parametrize("raw", ["", "   ", "x" * 65, "two words", "tab\there", "bell\x07"])
def test_the_default_rule_refuses_empty_long_or_invisible_addresses(raw: str) -> None:
    with pytest.raises(InvalidAddress) as raised:
        any_address(raw)

    assert raw.strip() == "" or raw.strip() not in str(raised.value)


def test_the_built_in_phone_channels_take_valid_numbers_in_e164() -> None:
    for channel in (Channel.WHATSAPP, Channel.SMS):
        rule = DEFAULT_ADDRESS_RULES[channel]
        assert rule(" +1 415 555 2671 ") == "+14155552671"
        with pytest.raises(InvalidPhoneNumber):
            rule("+999123")


def test_metas_whatsapp_takes_numbers_and_refuses_anything_else_without_repeating_it() -> None:
    config = MetaConfig(
        access_token="token", app_secret="secret", phone_number_id="106540352242922"
    )
    spec = meta_channel(config)

    assert spec.recipient("+16505551234") == Address(channel=META_WHATSAPP, value="+16505551234")
    with pytest.raises(InvalidPhoneNumber) as raised:
        spec.recipient("7000000001")
    assert "7000000001" not in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("7000000001", "7000000001"), (" -1001234567890 ", "-1001234567890"), ("@walker_news",) * 2],
)
def test_telegram_takes_chat_ids_and_public_channel_names(raw: str, value: str) -> None:
    spec = telegram_channel(TelegramConfig(bot_token=BOT_TOKEN))

    assert spec.recipient(raw) == Address(channel=TELEGRAM, value=value)


@pytest.mark.parametrize("raw", ["+14155552671", "12ab34", "@abc", "--5", "7" * 21, "@" + "a" * 40])
def test_telegram_refuses_what_is_no_chat_id_without_repeating_it(raw: str) -> None:
    spec = telegram_channel(TelegramConfig(bot_token=BOT_TOKEN))

    with pytest.raises(InvalidAddress) as raised:
        spec.recipient(raw)

    assert raw not in str(raised.value)
