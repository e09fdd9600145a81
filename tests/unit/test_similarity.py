"""Tickets that say the same thing in other words are grouped; unrelated ones are kept apart."""

from __future__ import annotations

import time

import pytest

from bot.problems.similarity import best_match, concepts, group_texts, similarity

THRESHOLD = 0.5

CHECKOUT_EN = [
    "checkout fails with an error",
    "cannot pay, error at the last step",
    "The payment page shows error 500",
    "Customers can't complete their order",
    "Checkout is broken since this morning",
    "Paying by credit card does not work",
    "Order button does nothing",
    "PayPal payment fails at the end",
    "The cart empties itself when I click buy",
    "Nobody can buy anything in the shop",
    "Transaction declined for every card",
    "Checkout page loads forever",
    "Payment step crashes",
    "Orders are not going through",
    "Error when placing an order",
    "Can't finish the purchase",
    "The basket cannot be checked out",
    "Stripe payments are failing",
    "Card payments rejected at checkout",
    "Our customers cannot pay since 10:40",
    "Invoice payment option throws an error",
    "Purchase stuck at the payment step",
]
CHECKOUT_DE = [
    "Bezahlen geht nicht",
    "Zahlung schlägt beim Abschluss fehl",
    "Kasse zeigt Fehler 500",
    "Kunden können nicht bezahlen",
    "Bestellung lässt sich nicht abschließen",
    "Kreditkartenzahlung funktioniert nicht",
    "Der Warenkorb leert sich beim Kaufen",
    "Fehler beim Bestellabschluss",
    "PayPal-Zahlung bricht ab",
    "Niemand kann im Shop einkaufen",
    "Die Zahlungsseite lädt nicht",
    "Bestellungen kommen nicht durch",
    "Kaufen-Knopf reagiert nicht",
    "Kartenzahlung wird abgelehnt",
    "Kasse hängt seit heute Morgen",
    "Zahlungsvorgang stürzt ab",
    "Abbuchung schlägt fehl",
    "Kauf kann nicht abgeschlossen werden",
    "Kauf auf Rechnung geht nicht mehr",
    "Lastschrift wird nicht angenommen",
    "Bezahlvorgang endet mit einer Fehlermeldung",
]
PRINTER_EN = [
    "The printer on floor 2 is out of toner",
    "Please order a new toner cartridge",
    "Printer shows a paper jam",
    "Cannot print to the office printer",
    "Printing is very slow",
    "The scanner does not send scans by mail",
    "Printer offline in the warehouse",
    "Print jobs stay in the queue",
    "Need a printer installed on my laptop",
    "Paper jam in tray 2 again",
    "Labels print blank",
    "The printer prints only half the page",
    "Cartridge empty on the label printer",
    "Printed invoices come out smudged",
    "Can't find the printer in the list",
    "Printer driver missing",
    "Toner is low",
    "Printer makes a grinding noise",
    "Printouts are crooked",
    "Please fix the jammed printer",
]
PRINTER_DE = [
    "Drucker im 2. Stock hat keinen Toner",
    "Bitte neue Tonerkartusche bestellen",
    "Papierstau im Drucker",
    "Ich kann nicht drucken",
    "Drucken dauert ewig",
    "Scanner schickt keine Scans",
    "Drucker im Lager offline",
    "Druckaufträge bleiben hängen",
    "Drucker auf meinem Laptop einrichten",
    "Schon wieder Papierstau in Fach 2",
    "Etiketten werden leer gedruckt",
    "Der Drucker druckt nur die halbe Seite",
    "Patrone im Etikettendrucker leer",
    "Ausdrucke sind verschmiert",
    "Drucker wird nicht gefunden",
    "Druckertreiber fehlt",
    "Toner fast leer",
    "Drucker macht komische Geräusche",
    "Ausdrucke sind schief",
    "Bitte den Drucker reparieren, Papier klemmt",
]


def test_the_issues_examples_are_alike_and_a_printer_is_not():
    assert similarity("checkout fails with an error", "cannot pay, error at the last step") > 0.8
    assert similarity("Bezahlen geht nicht", "Zahlung schlägt beim Abschluss fehl") > 0.8
    assert similarity("checkout fails with an error", PRINTER_EN[0]) < 0.1
    assert similarity("Bezahlen geht nicht", PRINTER_DE[0]) < 0.1


def test_a_shared_failure_word_alone_does_not_make_two_tickets_alike():
    assert similarity("Error at checkout", "Error on the printer") < THRESHOLD
    assert similarity("Fehler an der Kasse", "Fehler am Drucker") < THRESHOLD


def test_the_longest_stem_decides_a_word():
    assert concepts("toner cartridge") == {"printer"}
    assert concepts("Kreditkarte") == {"checkout"}


@pytest.mark.parametrize(
    ("checkout", "printer"), [(CHECKOUT_EN, PRINTER_EN), (CHECKOUT_DE, PRINTER_DE)]
)
def test_twenty_phrasings_each_make_two_groups_in_each_language(checkout, printer):
    assert len(checkout) >= 20 and len(printer) >= 20
    mixed = [(("c", i), text) for i, text in enumerate(checkout)]
    mixed += [(("p", i), text) for i, text in enumerate(printer)]
    mixed.sort(key=lambda item: (item[0][1], item[0][0]))  # interleaved, as tickets arrive

    groups = group_texts(mixed, threshold=THRESHOLD)

    by_kind = [{kind for kind, _ in group} for group in groups]
    assert all(len(kinds) == 1 for kinds in by_kind), "a group mixes checkout and printer"
    checkout_groups = [g for g, k in zip(groups, by_kind, strict=True) if k == {"c"}]
    printer_groups = [g for g, k in zip(groups, by_kind, strict=True) if k == {"p"}]
    assert [len(g) for g in checkout_groups] == [len(checkout)], [
        [checkout[i] for _, i in g] for g in checkout_groups
    ]
    assert [len(g) for g in printer_groups] == [len(printer)], [
        [printer[i] for _, i in g] for g in printer_groups
    ]


def test_a_new_ticket_finds_the_open_problem_it_belongs_to():
    problems = [("PRB-1", "Checkout fails for everyone"), ("PRB-2", "Printers out of toner")]
    assert best_match("I cannot pay for my order", problems, threshold=THRESHOLD) == "PRB-1"
    assert best_match("Zahlung geht nicht", problems, threshold=THRESHOLD) == "PRB-1"
    assert best_match("Drucker hat keinen Toner", problems, threshold=THRESHOLD) == "PRB-2"
    assert best_match("My chair is broken", problems, threshold=THRESHOLD) is None


def test_a_ticket_takes_microseconds_not_a_model():
    texts = (CHECKOUT_EN + CHECKOUT_DE + PRINTER_EN + PRINTER_DE) * 25
    started = time.perf_counter()
    group_texts(enumerate(texts), threshold=THRESHOLD)
    per_ticket = (time.perf_counter() - started) / len(texts)
    assert per_ticket < 0.002, f"{per_ticket * 1e6:.0f} µs per ticket"
