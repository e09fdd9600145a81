"""The service desk's words for what a ticket is about, in English and German; pure data.

Each concept lists word stems. A stem matches a word it begins (English and German), and a
German stem of five letters or more also matches inside a compound ("Zahlungsseite").
A stem written with a leading "~" is weak: the word is common outside the concept too ("order"
toner, an "offline" printer), so it says less than a strong one. Failure words ("error", "geht
nicht") say that something is wrong, not what: they carry no concept, so two tickets are not
alike merely because both report an error.
"""

from __future__ import annotations

CONCEPTS: dict[str, tuple[str, ...]] = {
    "checkout": (
        # English
        "checkout", "check-out", "pay", "paid", "purchas", "buy", "bought", "cart", "basket",
        "~order", "credit", "~card", "paypal", "~invoice", "billing", "transaction", "stripe",
        # German
        "kasse", "bezahl", "zahl", "~bestell", "warenkorb", "kauf", "einkauf", "kreditkarte",
        "karte", "abschluss", "~abschlie", "abbuchung", "lastschrift", "~rechnung",
    ),
    "printer": (
        "print", "toner", "paper", "cartridge", "jam", "scan",
        "druck", "papier", "patrone", "papierstau", "scann",
    ),
    "login": (
        "login", "log-in", "logon", "sign", "password", "passwd", "account", "locked", "2fa",
        "mfa", "anmeld", "einlogg", "passwort", "kennwort", "konto", "gesperrt", "zugang",
    ),
    "email": ("email", "e-mail", "~mail", "outlook", "inbox", "postfach"),
    "network": (
        "network", "wifi", "wi-fi", "wlan", "vpn", "internet", "~offline", "netzwerk",
        "~verbindung",
    ),
    "catalog": (
        "product", "catalog", "catalogue", "image", "picture", "price", "variant",
        "artikel", "produkt", "katalog", "bild", "preis", "lagerbestand", "bestand",
    ),
    "shipping": (
        "ship", "deliver", "parcel", "courier", "tracking", "dispatch",
        "versand", "liefer", "paket", "sendung",
    ),
    "admin": ("admin", "backend", "back-office", "dashboard", "verwaltung", "backoffice"),
}  # fmt: skip

# Words too common to tell two tickets apart, left out of the letters' comparison too.
_STOP_WORDS = """
    a an and are at be but by can cannot can't could do does doesn't don't error errors fail
    fails failed failing failure for from get gets got has have i i'm in is it it's its me my
    no not of on or our problem problems since so the there this to too up us was we when
    with won't work works working wrong broken again any anymore just keeps page step last
    aber als am an auch auf bei beim bitte da das dem den der des die ein eine einen einer es
    fehler fehl funktioniert geht gibt hat ich im immer in ist ja kann kein keine klappt mehr
    mit mein meine mir nicht noch nur schlägt seit seite sich so und uns von was wenn wir
    wird zu zum zur kaputt mal schritt letzten
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
