"""Reading reply text, confidence and error reasons out of Langflow responses (pure)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walker_channels import InvalidAgentReply
from walker_channels.agents.extract import (
    component_id,
    dig,
    error_detail,
    extract_reply,
    output_entries,
    parse_confidence,
    parse_path,
    select_output,
    structured_reply,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "langflow"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def response_saying(text: str, **entry: Any) -> dict[str, Any]:
    body = {"results": {"message": {"text": text}}, **entry}
    return {"session_id": "s", "outputs": [{"inputs": {}, "outputs": [body]}]}


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)


class TestReplyText:
    @pytest.mark.parametrize(
        ("name", "text"),
        [
            ("run_recent", "Bioluminescence is light made by living things."),
            ("run_quickstart", "Hello world! 🌍 How can I assist you today?"),
            ("run_legacy_data_text", "The data lists media items with their metrics."),
            ("run_outputs_message", "Read from outputs.message."),
            ("run_messages_only", "Read from the message list."),
        ],
    )
    def test_each_documented_place_yields_the_text(self, name: str, text: str) -> None:
        assert select_output(fixture(name))[1] == text

    def test_a_chat_output_wins_over_an_earlier_text_output(self) -> None:
        entry, text = select_output(fixture("run_text_then_chat"))
        assert text == "The chat output wins."
        assert component_id(entry) == "ChatOutput-aF5lw"

    def test_null_entries_and_non_objects_are_skipped(self) -> None:
        body = fixture("run_text_then_chat")
        assert len(output_entries(body)) == 2
        assert output_entries({"outputs": "nope"}) == []

    def test_the_component_id_is_found_inside_the_message_in_recent_versions(self) -> None:
        entry, _ = select_output(fixture("run_recent"))
        assert component_id(entry) == "ChatOutput-ylMzN"

    def test_blank_text_is_passed_over_for_the_next_place(self) -> None:
        body = response_saying("   ", messages=[{"message": "from the list"}])
        assert select_output(body)[1] == "from the list"

    @pytest.mark.parametrize(
        "body", [fixture("run_no_text"), {"outputs": []}, {"detail": "x"}, [1, 2], "text", None]
    )
    def test_no_text_anywhere_is_an_invalid_reply(self, body: object) -> None:
        with pytest.raises(InvalidAgentReply):
            select_output(body)

    @given(json_values)
    def test_any_json_gives_text_or_an_invalid_reply_never_another_error(
        self, body: object
    ) -> None:
        try:
            _, text = select_output(body)
        except InvalidAgentReply:
            return
        assert text.strip()


class TestConfidence:
    def test_none_is_the_default_when_nothing_is_configured(self) -> None:
        assert extract_reply(fixture("run_recent"))[1] is None

    def test_the_configured_default_fills_in(self) -> None:
        assert extract_reply(fixture("run_recent"), default_confidence=0.75)[1] == 0.75

    def test_a_json_reply_carries_text_and_confidence(self) -> None:
        text, confidence, _ = extract_reply(fixture("run_structured_reply"))
        assert (text, confidence) == ("Your order ships tomorrow.", 0.82)

    def test_a_fenced_json_reply_is_read_too(self) -> None:
        fenced = '```json\n{"text": "Fenced.", "confidence": 0.9}\n```'
        assert extract_reply(response_saying(fenced))[:2] == ("Fenced.", 0.9)

    def test_a_json_reply_without_confidence_takes_the_default(self) -> None:
        reply = response_saying('{"text": "no score", "confidence": null}')
        assert extract_reply(reply, default_confidence=0.3)[:2] == ("no score", 0.3)

    def test_json_without_a_text_key_is_plain_text(self) -> None:
        raw = '{"answer": 42}'
        assert extract_reply(response_saying(raw))[0] == raw
        assert structured_reply("not json {") is None

    def test_a_json_reply_with_unusable_text_is_invalid(self) -> None:
        with pytest.raises(InvalidAgentReply, match="'text'"):
            extract_reply(response_saying('{"text": 7, "confidence": 0.9}'))

    def test_a_configured_path_wins_and_falls_back_when_absent(self) -> None:
        path = parse_path("results.message.data.confidence")
        scored = extract_reply(fixture("run_confidence_in_data"), confidence_path=path)
        assert scored[:2] == ("Scored reply.", 0.42)
        unscored = extract_reply(fixture("run_quickstart"), confidence_path=path)
        assert unscored[1] is None

    def test_a_path_may_index_lists(self) -> None:
        body = response_saying("hi", messages=[{"message": "hi", "score": 0.6}])
        assert extract_reply(body, confidence_path=parse_path("messages.0.score"))[1] == 0.6

    @pytest.mark.parametrize(
        "value", [1.01, -0.5, float("nan"), float("inf"), "0.8", True, None, [0.5], {"v": 1}]
    )
    def test_anything_but_a_number_from_0_to_1_is_invalid(self, value: object) -> None:
        with pytest.raises(InvalidAgentReply):
            parse_confidence(value)

    @pytest.mark.parametrize("value", [0, 1, 0.0, 0.5, 1.0])
    def test_the_bounds_are_included(self, value: float) -> None:
        assert parse_confidence(value) == value

    @given(json_values)
    def test_a_parsed_confidence_is_always_in_the_unit_interval(self, value: object) -> None:
        try:
            number = parse_confidence(value)
        except InvalidAgentReply:
            return
        assert math.isfinite(number)
        assert 0.0 <= number <= 1.0


class TestPaths:
    def test_dotted_paths_split_with_list_indexes(self) -> None:
        assert parse_path("outputs.0.results") == ("outputs", 0, "results")

    @pytest.mark.parametrize("bad", ["", " ", "a..b", ".a", "a."])
    def test_malformed_paths_are_refused(self, bad: str) -> None:
        with pytest.raises(ValueError, match="dotted path"):
            parse_path(bad)

    def test_missing_steps_give_none(self) -> None:
        assert dig({"a": [1]}, ("a", 3)) is None
        assert dig({"a": [1]}, ("a", "b")) is None
        assert dig({"a": {"b": 2}}, ("a", "b")) == 2


class TestErrorDetail:
    def test_a_json_string_detail_is_decoded_to_its_message(self) -> None:
        raw = json.dumps(fixture("error_500_json_detail")).encode()
        assert error_detail(raw) == "Error running graph: OpenAI API key is invalid"

    def test_a_plain_detail_is_kept(self) -> None:
        assert error_detail(b'{"detail": "Flow not found"}') == "Flow not found"

    def test_validation_errors_are_joined(self) -> None:
        raw = b'{"detail": [{"loc": ["body"], "msg": "field required"}, {"msg": "bad"}]}'
        assert error_detail(raw) == "field required; bad"

    def test_bodies_without_detail_say_so(self) -> None:
        assert error_detail(b"<html>502</html>") == "the error body is not JSON"
        assert error_detail(b'{"error": "x"}') == "no detail given"

    def test_long_details_are_cut_to_one_short_line(self) -> None:
        raw = json.dumps({"detail": "line\n" * 200}).encode()
        detail = error_detail(raw)
        assert len(detail) == 200
        assert "\n" not in detail

    def test_deeply_nested_bodies_do_not_break_it(self) -> None:
        assert error_detail(b"[" * 100_000 + b"]" * 100_000) == "the error body is not JSON"
