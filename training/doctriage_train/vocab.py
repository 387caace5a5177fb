"""Multilingual words the generator puts on pages (en, de, fr, es): titles and field labels per class."""

from __future__ import annotations

LANGS = ("en", "de", "fr", "es")
FAKER_LOCALES = {"en": ("en_US", "en_GB"), "de": ("de_DE",), "fr": ("fr_FR",), "es": ("es_ES",)}


def w(en: str, de: str, fr: str, es: str) -> dict[str, str]:
    return {"en": en, "de": de, "fr": fr, "es": es}


TITLES: dict[str, list[dict[str, str]]] = {
    "invoice": [
        w("INVOICE", "RECHNUNG", "FACTURE", "FACTURA"),
        w("Tax Invoice", "Rechnung", "Facture", "Factura"),
        w("Invoice", "Rechnung Nr.", "Facture n°", "Factura n.º"),
        w("Commercial Invoice", "Schlussrechnung", "Facture finale", "Factura comercial"),
    ],
    "receipt": [
        w("RECEIPT", "KASSENBON", "TICKET DE CAISSE", "TICKET"),
        w("Sales Receipt", "Quittung", "Reçu", "Recibo"),
        w("Thank you for shopping", "Vielen Dank für Ihren Einkauf", "Merci de votre visite", "Gracias por su compra"),
        w("CASH RECEIPT", "BELEG", "REÇU", "FACTURA SIMPLIFICADA"),
    ],
    "bank_statement": [
        w("Account Statement", "Kontoauszug", "Relevé de compte", "Extracto de cuenta"),
        w("Statement of Account", "Kontoauszug Nr.", "Relevé bancaire", "Extracto bancario"),
        w("Monthly Statement", "Umsatzübersicht", "Relevé mensuel", "Movimientos de la cuenta"),
        w("Credit Card Statement", "Kreditkartenabrechnung", "Relevé de carte", "Extracto de tarjeta"),
    ],
    "payslip": [
        w("PAYSLIP", "GEHALTSABRECHNUNG", "BULLETIN DE PAIE", "NÓMINA"),
        w("Pay Statement", "Entgeltabrechnung", "Fiche de paie", "Recibo de salarios"),
        w("Earnings Statement", "Lohnabrechnung", "Bulletin de salaire", "Hoja de salario"),
    ],
    "identity_document": [
        w("IDENTITY CARD", "PERSONALAUSWEIS", "CARTE NATIONALE D'IDENTITÉ", "DOCUMENTO NACIONAL DE IDENTIDAD"),
        w("PASSPORT", "REISEPASS", "PASSEPORT", "PASAPORTE"),
        w("DRIVING LICENCE", "FÜHRERSCHEIN", "PERMIS DE CONDUIRE", "PERMISO DE CONDUCCIÓN"),
        w("RESIDENCE PERMIT", "AUFENTHALTSTITEL", "TITRE DE SÉJOUR", "PERMISO DE RESIDENCIA"),
    ],
    "utility_bill": [
        w("Electricity Bill", "Stromrechnung", "Facture d'électricité", "Factura de electricidad"),
        w("Gas Bill", "Gasrechnung", "Facture de gaz", "Factura de gas"),
        w("Water Bill", "Wasserrechnung", "Facture d'eau", "Factura de agua"),
        w("Your Mobile Bill", "Ihre Mobilfunkrechnung", "Votre facture mobile", "Su factura de móvil"),
        w("Internet & Phone Bill", "Telefonrechnung", "Facture internet", "Factura de telecomunicaciones"),
    ],
    "tax_form": [
        w(
            "Form 1040 U.S. Individual Income Tax Return",
            "Einkommensteuererklärung",
            "Déclaration des revenus",
            "Declaración de la renta",
        ),
        w("Form W-2 Wage and Tax Statement", "Anlage N", "Formulaire 2042", "Modelo 100"),
        w("Self Assessment Tax Return SA100", "Umsatzsteuer-Voranmeldung", "Avis d'impôt", "Modelo 303 IVA"),
        w(
            "Form W-9 Request for Taxpayer Identification",
            "Lohnsteuerbescheinigung",
            "Déclaration de TVA",
            "Modelo 111 Retenciones",
        ),
    ],
    "letter": [
        w("", "", "", ""),
        w("Re:", "Betreff:", "Objet :", "Asunto:"),
    ],
}

FIELDS: dict[str, list[dict[str, str]]] = {
    "invoice": [
        w("Invoice No.", "Rechnungsnummer", "N° de facture", "N.º de factura"),
        w("Invoice Date", "Rechnungsdatum", "Date de facture", "Fecha de factura"),
        w("Due Date", "Fällig am", "Date d'échéance", "Vencimiento"),
        w("Customer No.", "Kundennummer", "N° client", "N.º de cliente"),
        w("VAT ID", "USt-IdNr.", "N° TVA", "NIF"),
        w("Order No.", "Bestellnummer", "N° commande", "N.º de pedido"),
        w("Payment terms", "Zahlungsziel", "Conditions de paiement", "Condiciones de pago"),
        w("Bill to", "Rechnungsadresse", "Facturé à", "Facturar a"),
    ],
    "receipt": [
        w("Cashier", "Kasse", "Caisse", "Cajero"),
        w("Change", "Rückgeld", "Rendu", "Cambio"),
        w("Cash", "Bar", "Espèces", "Efectivo"),
        w("Card", "Karte", "Carte", "Tarjeta"),
        w("Subtotal", "Zwischensumme", "Sous-total", "Subtotal"),
        w("TOTAL", "SUMME", "TOTAL", "TOTAL"),
        w("Tax", "MwSt", "TVA", "IVA"),
        w("Store", "Filiale", "Magasin", "Tienda"),
    ],
    "bank_statement": [
        w("Opening balance", "Alter Kontostand", "Solde précédent", "Saldo anterior"),
        w("Closing balance", "Neuer Kontostand", "Nouveau solde", "Saldo final"),
        w("Account number", "Kontonummer", "N° de compte", "N.º de cuenta"),
        w("Sort code", "BLZ", "Code banque", "Código entidad"),
        w("Statement period", "Zeitraum", "Période", "Periodo"),
        w("Date", "Buchungstag", "Date", "Fecha"),
        w("Description", "Verwendungszweck", "Libellé", "Concepto"),
        w("Withdrawals", "Soll", "Débit", "Cargo"),
        w("Deposits", "Haben", "Crédit", "Abono"),
        w("Balance", "Saldo", "Solde", "Saldo"),
    ],
    "payslip": [
        w("Employee", "Mitarbeiter", "Salarié", "Trabajador"),
        w("Employee ID", "Personalnummer", "Matricule", "N.º afiliación"),
        w("Pay period", "Abrechnungsmonat", "Période de paie", "Periodo de liquidación"),
        w("Gross pay", "Bruttobezüge", "Salaire brut", "Total devengado"),
        w("Net pay", "Auszahlungsbetrag", "Net à payer", "Líquido a percibir"),
        w("Income tax", "Lohnsteuer", "Impôt sur le revenu", "IRPF"),
        w("Social security", "Sozialversicherung", "Cotisations sociales", "Seguridad Social"),
        w("Basic salary", "Grundgehalt", "Salaire de base", "Salario base"),
        w("Overtime", "Überstunden", "Heures supplémentaires", "Horas extra"),
        w("Deductions", "Abzüge", "Retenues", "Deducciones"),
        w("Year to date", "Kumuliert", "Cumul annuel", "Acumulado"),
    ],
    "identity_document": [
        w("Surname", "Name", "Nom", "Apellidos"),
        w("Given names", "Vornamen", "Prénoms", "Nombre"),
        w("Date of birth", "Geburtsdatum", "Date de naissance", "Fecha de nacimiento"),
        w("Nationality", "Staatsangehörigkeit", "Nationalité", "Nacionalidad"),
        w("Date of expiry", "Gültig bis", "Date d'expiration", "Válido hasta"),
        w("Place of birth", "Geburtsort", "Lieu de naissance", "Lugar de nacimiento"),
        w("Sex", "Geschlecht", "Sexe", "Sexo"),
        w("Document No.", "Ausweisnummer", "N° du document", "N.º de soporte"),
        w("Signature", "Unterschrift", "Signature", "Firma"),
    ],
    "utility_bill": [
        w("Account number", "Vertragskonto", "Référence client", "N.º de contrato"),
        w("Meter reading", "Zählerstand", "Relevé du compteur", "Lectura del contador"),
        w("Consumption", "Verbrauch", "Consommation", "Consumo"),
        w("Billing period", "Abrechnungszeitraum", "Période de facturation", "Periodo de facturación"),
        w("Amount due", "Zu zahlender Betrag", "Montant à payer", "Importe a pagar"),
        w("Tariff", "Tarif", "Tarif", "Tarifa"),
        w("Standing charge", "Grundpreis", "Abonnement", "Término fijo"),
        w("Unit rate", "Arbeitspreis", "Prix du kWh", "Término de energía"),
        w("Direct debit", "Lastschrift", "Prélèvement", "Domiciliación"),
    ],
    "tax_form": [
        w("Taxpayer identification number", "Steuer-Identifikationsnummer", "Numéro fiscal", "NIF"),
        w("Filing status", "Veranlagungsart", "Situation de famille", "Estado civil"),
        w("Wages, salaries, tips", "Bruttoarbeitslohn", "Traitements et salaires", "Rendimientos del trabajo"),
        w("Taxable income", "Zu versteuerndes Einkommen", "Revenu imposable", "Base imponible"),
        w("Federal income tax withheld", "Einbehaltene Lohnsteuer", "Prélèvement à la source", "Retenciones"),
        w("Tax year", "Veranlagungsjahr", "Année d'imposition", "Ejercicio"),
        w("Signature of taxpayer", "Unterschrift", "Signature du déclarant", "Firma del declarante"),
        w("Deductions", "Werbungskosten", "Charges déductibles", "Deducciones"),
        w("Refund", "Erstattung", "Remboursement", "A devolver"),
        w("Tax office", "Finanzamt", "Centre des impôts", "Agencia Tributaria"),
    ],
    "letter": [
        w("Dear", "Sehr geehrte Damen und Herren,", "Madame, Monsieur,", "Estimado/a"),
        w("Sincerely", "Mit freundlichen Grüßen", "Cordialement", "Atentamente"),
        w("Yours faithfully", "Freundliche Grüße", "Veuillez agréer nos salutations", "Un cordial saludo"),
    ],
}

OTHER_TITLES: dict[str, list[dict[str, str]]] = {
    "credit_note": [w("CREDIT NOTE", "GUTSCHRIFT", "AVOIR", "NOTA DE CRÉDITO")],
    "delivery_note": [w("DELIVERY NOTE", "LIEFERSCHEIN", "BON DE LIVRAISON", "ALBARÁN")],
    "quotation": [w("QUOTATION", "ANGEBOT", "DEVIS", "PRESUPUESTO")],
    "purchase_order": [w("PURCHASE ORDER", "BESTELLUNG", "BON DE COMMANDE", "ORDEN DE COMPRA")],
    "order_confirmation": [
        w("ORDER CONFIRMATION", "AUFTRAGSBESTÄTIGUNG", "CONFIRMATION DE COMMANDE", "CONFIRMACIÓN DE PEDIDO")
    ],
    "price_list": [w("PRICE LIST", "PREISLISTE", "LISTE DE PRIX", "LISTA DE PRECIOS")],
    "visa": [w("VISA", "VISUM", "VISA", "VISADO")],
    "menu": [w("MENU", "SPEISEKARTE", "CARTE", "MENÚ")],
    "form": [w("APPLICATION FORM", "ANTRAG", "FORMULAIRE DE DEMANDE", "SOLICITUD")],
    "certificate": [w("CERTIFICATE", "ZERTIFIKAT", "CERTIFICAT", "CERTIFICADO")],
    "minutes": [w("Meeting Minutes", "Protokoll", "Compte rendu", "Acta de reunión")],
    "resume": [w("Curriculum Vitae", "Lebenslauf", "Curriculum Vitae", "Currículum")],
    "boarding_pass": [w("BOARDING PASS", "BORDKARTE", "CARTE D'EMBARQUEMENT", "TARJETA DE EMBARQUE")],
    "recipe": [w("Recipe", "Rezept", "Recette", "Receta")],
    "contract": [w("AGREEMENT", "VERTRAG", "CONTRAT", "CONTRATO")],
    "timetable": [w("Timetable", "Fahrplan", "Horaires", "Horario")],
}
