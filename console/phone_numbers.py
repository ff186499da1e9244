"""Numbers as people read and type them. The data keeps E.164 (+19195550100), as Bandwidth
sends it; a person reads a number of the console's home country in its national format,
(919) 555-0100, and any other in international format, +44 20 7946 0000 (PHONE_HOME_REGION).
What is no phone number (a SIP URI, an id a mirror row may hold) is shown as it is.

Formatting follows the phonenumbers library (Google's libphonenumber metadata), so each
country's grouping is its own, not a pattern of ours."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def display(number: str) -> str:
    """`number` (E.164) as a person reads it, in the home region's format."""
    if not isinstance(number, str) or not E164.match(number):
        return str(number or "")
    return _display(number, settings.PHONE_HOME_REGION)


@lru_cache(maxsize=4096)
def _display(number: str, home: str) -> str:
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    # A number of the home region's country code is dialled in national format there (a
    # Canadian number from the United States too: one numbering plan).
    if home in phonenumbers.region_codes_for_country_code(parsed.country_code):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def to_e164(text: str) -> str:
    """A whole number as a person writes it, in either form, in E.164; "" if `text` is no
    possible number (a number without its country code is the home region's)."""
    try:
        parsed = phonenumbers.parse(text.strip(), settings.PHONE_HOME_REGION)
    except phonenumbers.NumberParseException:
        return ""
    # A local number without its area code (IS_POSSIBLE_LOCAL_ONLY) is only part of one.
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def search_digits(text: str) -> str:
    """The digits a number search looks for in the E.164 numbers, from what a person typed:
    a whole number in either form ("(919) 555-0100", "+1 919 555 0100", "020 7946 0000" in
    the United Kingdom) is its E.164 digits; a part of one ("555-01") its own digits. ""
    when `text` holds no digit."""
    text = text.strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    return to_e164(text).lstrip("+") or digits
