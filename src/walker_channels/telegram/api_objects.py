"""The Bot API objects the webhook reads (https://core.telegram.org/bots/api#available-types).

Only the fields walker-channels uses are declared; Telegram adds fields over time, and unknown
ones are ignored rather than refused.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiObject(BaseModel):
    """Base of the objects: frozen, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class User(ApiObject):
    """A Telegram user (the person, or the bot)."""

    id: int
    first_name: str = ""
    last_name: str | None = None


class Chat(ApiObject):
    """The chat a message is in: private, group, supergroup or channel."""

    id: int
    type: str


class File(ApiObject):
    """A file-carrying object: PhotoSize, Document, Audio, Voice, Video, Sticker, ..."""

    file_id: str = Field(min_length=1)
    mime_type: str | None = None
    width: int = 0
    height: int = 0


class GeoPoint(ApiObject):
    """A Location object."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Venue(ApiObject):
    """A place: its location, title and address."""

    location: GeoPoint
    title: str | None = None
    address: str | None = None


class Contact(ApiObject):
    """A shared contact."""

    phone_number: str
    first_name: str = ""
    last_name: str | None = None
    vcard: str | None = None


class Message(ApiObject):
    """A message (or an inaccessible one: ``date`` 0, no content)."""

    message_id: int
    sender: User | None = Field(default=None, alias="from")
    chat: Chat
    text: str | None = None
    caption: str | None = None
    photo: tuple[File, ...] = ()
    document: File | None = None
    audio: File | None = None
    voice: File | None = None
    video: File | None = None
    video_note: File | None = None
    animation: File | None = None
    sticker: File | None = None
    location: GeoPoint | None = None
    venue: Venue | None = None
    contact: Contact | None = None
    reply_to_message: Message | None = None
    forward_origin: dict[str, object] | None = None
    forward_date: int | None = None
    reply_markup: dict[str, object] | None = None


class CallbackQuery(ApiObject):
    """A tap on an inline keyboard button."""

    id: str = Field(min_length=1)
    sender: User = Field(alias="from")
    message: Message | None = None
    data: str | None = None


class ChatMember(ApiObject):
    """Someone's (here: the bot's) membership of a chat."""

    status: str


class ChatMemberUpdated(ApiObject):
    """A change of the bot's membership: in a private chat, the person blocking or unblocking it."""

    chat: Chat
    sender: User = Field(alias="from")
    old_chat_member: ChatMember
    new_chat_member: ChatMember
