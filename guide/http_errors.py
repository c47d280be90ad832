"""What a person reads for an HTTP error that no view explained: on pages and in the API alike."""

from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from guide.errors import N_, say

# What a person reads for an HTTP error that no view explained, by status.
HTTP_SENTENCES = {
    400: N_("Något i förfrågan var fel. Gå tillbaka och försök igen."),
    401: N_("Du behöver logga in för att se den här sidan."),
    403: N_("Du har inte behörighet till den här sidan."),
    404: N_("Sidan finns inte. Kontrollera adressen eller gå till startsidan."),
    405: N_("Det går inte att göra så här på den här sidan."),
    413: N_("Det du skickade var för stort. Korta ner texten och försök igen."),
    429: N_("Du har försökt för många gånger. Vänta en stund och försök igen."),
    500: N_("Något gick fel hos oss. Försök igen om en stund."),
}


def http_sentence(error: HTTPException) -> str:
    """Return what a person reads for `error`: the view's own reason, or the status's sentence.

    Werkzeug's English default descriptions never reach a person.
    """
    if type(error).description != error.description:
        description = error.description
        return say(description, _) if isinstance(description, str) else str(description)
    return str(_(HTTP_SENTENCES.get(error.code or 500, HTTP_SENTENCES[500])))
