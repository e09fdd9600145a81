"""A reply is stamped with the conversation on a copy of its own fields; its card is not copied."""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity

from bot.demo.activities import TeamsUser, personal_conversation_id, personal_message
from bot.teams.turns import AcyclicTurnContext

LENA = TeamsUser.named("Lena Learner", "lena@example.test")


def _incoming() -> Activity:
    message = personal_message(LENA, "status SR-1", "https://smba.example/emea/", id="incoming-1")
    return Activity().deserialize(message)


async def test_a_reply_goes_out_stamped_and_the_callers_activity_stays_as_it_was() -> None:
    adapter = TestAdapter()
    context = AcyclicTurnContext(adapter, _incoming())
    card = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "SR-1"}]}
    reply = MessageFactory.attachment(CardFactory.adaptive_card(card))

    await context.send_activity(reply)
    await context.send_activity(reply)  # the same activity twice: each send stamps its own

    first, second = adapter.activity_buffer
    for sent in (first, second):
        assert isinstance(sent, Activity)
        assert sent.conversation.id == personal_conversation_id(LENA)
        assert sent.reply_to_id == "incoming-1"
        assert sent.recipient.id == LENA.id and sent.from_property.id != LENA.id
        assert sent.attachments[0].content is card  # shared, not copied
    assert first is not second and first is not reply
    assert reply.conversation is None and reply.reply_to_id is None and reply.id is None
    assert reply.from_property is None and reply.input_hint is None
    assert card == {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "SR-1"}]}
