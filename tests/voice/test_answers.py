"""What short answers mean (ringly/voice/answers.py): yes or no, a key said in words."""
from __future__ import annotations

import pytest

from ringly.voice.answers import key, yes_or_no


@pytest.mark.parametrize(("locale", "said"), [
    ("en", "yes"), ("en", "yeah"), ("en", "yep"), ("en", "sure"), ("en", "that's right"),
    ("en", "correct"), ("en", "okay"), ("en", "yes please"), ("en", "no problem"),
    ("en", "one"), ("es", "sí"), ("es", "claro"), ("es", "correcto"), ("es", "de acuerdo"),
    ("es", "sí, por favor"), ("es", "está bien"), ("es", "no hay problema"), ("es", "uno"),
])
def test_a_spoken_yes_is_yes(locale, said):
    assert yes_or_no("", said, locale) is True


@pytest.mark.parametrize(("locale", "said"), [
    ("en", "no"), ("en", "nope"), ("en", "that's not right"), ("en", "yes... no, wait"),
    ("en", "another time"), ("en", "two"), ("es", "no"), ("es", "no gracias"),
    ("es", "otra hora"), ("es", "incorrecto"), ("es", "dos"),
])
def test_a_spoken_no_is_no(locale, said):
    assert yes_or_no("", said, locale) is False


@pytest.mark.parametrize(("locale", "said"), [
    ("en", "maybe"), ("en", "purple"), ("en", ""), ("es", "quizás"), ("es", "la una"),
])
def test_anything_else_is_neither(locale, said):
    assert yes_or_no("", said, locale) is None


@pytest.mark.parametrize(("digits", "meaning"), [("1", True), ("2", False), ("3", None),
                                                  ("12", None)])
def test_keys_mean_what_the_prompt_says(digits, meaning):
    assert yes_or_no(digits, "", "en") is meaning


@pytest.mark.parametrize(("digits", "said", "pressed"), [
    ("3", "", "3"), ("", "one", "1"), ("", "number two", "2"), ("", "dos", "2"),
    ("", "opción tres", "3"), ("", "press four", "4"), ("", "the second one", ""),
    ("", "one two", ""), ("", "appointment", ""), ("", "la una", ""),
    ("", "oprima tres", "3"), ("", "three please", "3"), ("", "el dos, por favor", "2"),
])
def test_a_key_may_be_said(digits, said, pressed):
    assert key(digits, said) == pressed
