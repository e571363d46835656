"""The comment composer's parts: template variants and what speech-to-text makes of a comment."""

from __future__ import annotations

from sandbox.base.topics import expand, sentiment, spoken


def test_a_template_expands_to_every_variant() -> None:
    assert expand("a {b|c} d{|e}.") == ("a b d.", "a b de.", "a c d.", "a c de.")
    assert expand("no slots") == ("no slots",)


def test_spoken_text_and_sentiment_scales() -> None:
    assert spoken("Hola, equipo. ¡La app se cae! I'm done.") == "hola equipo la app se cae i'm done"
    assert spoken("荷物が届きました。") == "荷物が届きました"
    assert [sentiment(s, 10) for s in (0, 6, 7, 8, 9, 10)] == [0, 0, 1, 1, 2, 2]
    assert [sentiment(s, 5) for s in (1, 2, 3, 4, 5)] == [0, 0, 1, 2, 2]
