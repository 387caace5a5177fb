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

# Generator 4: more of each type's real vocabulary, and the words types share (an invoice names its
# order, a credit note the invoice it corrects, a letter a payment), so that no single field word
# decides a class. `generator._extras` prints a few of these per page, as "label: value" lines or notes.
EXTRA: dict[str, list[dict[str, str]]] = {
    "invoice": [
        w("Order No.", "Bestellnummer", "N° de commande", "N.º de pedido"),
        w("Delivery date", "Lieferdatum", "Date de livraison", "Fecha de entrega"),
        w("Your reference", "Ihr Zeichen", "Votre référence", "Su referencia"),
        w("Shipping method", "Versandart", "Mode d'expédition", "Forma de envío"),
        w(
            "Payment due within 14 days",
            "Zahlbar innerhalb von 14 Tagen ohne Abzug",
            "Payable à 30 jours",
            "Pago a 30 días",
        ),
        w(
            "Thank you for your business",
            "Vielen Dank für Ihren Auftrag",
            "Merci pour votre confiance",
            "Gracias por su confianza",
        ),
        w("Bank details", "Bankverbindung", "Coordonnées bancaires", "Datos bancarios"),
        w("Amount due", "Zahlbetrag", "Net à payer", "Total a pagar"),
        w("Balance due", "Offener Betrag", "Reste à payer", "Importe pendiente"),
        w(
            "Please pay by bank transfer",
            "Bitte überweisen Sie den Betrag",
            "Règlement par virement",
            "Pago por transferencia",
        ),
        w("Registered office", "Sitz der Gesellschaft", "Siège social", "Domicilio social"),
        w("Managing director", "Geschäftsführer", "Gérant", "Administrador"),
        w("Shipping", "Versandkosten", "Frais de port", "Gastos de envío"),
        w("Discount", "Rabatt", "Remise", "Descuento"),
        w("Ship to", "Lieferadresse", "Adresse de livraison", "Dirección de envío"),
        w("Account number", "Kontonummer", "N° de compte", "N.º de cuenta"),
        w("Page 1 of 1", "Seite 1 von 1", "Page 1 sur 1", "Página 1 de 1"),
        w("Invoice total", "Rechnungsbetrag", "Montant de la facture", "Total factura"),
    ],
    "receipt": [
        w("VISA **** 4821", "girocard **** 4821", "CB **** 4821", "VISA **** 4821"),
        w("AUTH CODE", "Genehmigungsnr.", "N° autorisation", "Cód. autorización"),
        w("Terminal ID", "Terminal-ID", "N° terminal", "Terminal"),
        w("APPROVED", "Zahlung erfolgt", "PAIEMENT ACCEPTE", "APROBADO"),
        w("Customer copy", "Kundenbeleg", "Ticket client", "Copia cliente"),
        w("Items", "Anzahl Artikel", "Articles", "Artículos"),
        w("Table", "Tisch", "Table", "Mesa"),
        w("Server", "Bedienung", "Serveur", "Camarero"),
        w("Tip", "Trinkgeld", "Pourboire", "Propina"),
        w("Net", "Netto", "HT", "Base"),
        w("Please keep your receipt", "Bitte Beleg aufbewahren", "Conservez votre ticket", "Conserve su ticket"),
        w(
            "Returns within 30 days with receipt",
            "Umtausch nur mit Kassenbon",
            "Échange sous 30 jours avec ticket",
            "Cambios con ticket",
        ),
        w("Contactless", "Kontaktlos", "Sans contact", "Sin contacto"),
        w("Trans. No.", "Beleg-Nr.", "N° transaction", "N.º operación"),
        w("Store", "Filiale", "Magasin", "Tienda"),
    ],
    "bank_statement": [
        w("Deposits and other credits", "Gutschriften", "Total des crédits", "Total abonos"),
        w("Withdrawals and other debits", "Belastungen", "Total des débits", "Total cargos"),
        w("Available balance", "Verfügbarer Betrag", "Solde disponible", "Saldo disponible"),
        w("Overdraft limit", "Dispositionskredit", "Découvert autorisé", "Límite de descubierto"),
        w("Interest paid", "Habenzinsen", "Intérêts créditeurs", "Intereses abonados"),
        w("Direct debit", "Lastschrift", "Prélèvement", "Adeudo domiciliado"),
        w("Standing order", "Dauerauftrag", "Virement permanent", "Transferencia periódica"),
        w("Card payment", "Kartenzahlung", "Paiement par carte", "Pago con tarjeta"),
        w("ATM withdrawal", "Geldautomat", "Retrait DAB", "Retirada cajero"),
        w("Customer service", "Kundenservice", "Service client", "Atención al cliente"),
        w("Minimum payment due", "Mindestzahlung", "Paiement minimum", "Pago mínimo"),
        w("Credit limit", "Kreditrahmen", "Plafond", "Límite de crédito"),
        w("Page 1 of 3", "Seite 1 von 3", "Page 1 sur 3", "Página 1 de 3"),
        w("Value date", "Wertstellung", "Date de valeur", "Fecha valor"),
        w("Invoice payment", "Rechnung bezahlt", "Paiement facture", "Pago factura"),
    ],
    "payslip": [
        w("Pay date", "Auszahlungsdatum", "Date de paiement", "Fecha de pago"),
        w("Period ending", "Abrechnungszeitraum", "Période du", "Periodo hasta"),
        w("Hours", "Stunden", "Heures", "Horas"),
        w("Rate", "Satz", "Taux", "Tipo"),
        w("Federal income tax", "Solidaritätszuschlag", "CSG déductible", "Retención IRPF"),
        w("Medicare", "Krankenversicherung", "Assurance maladie", "Contingencias comunes"),
        w("Pension contribution", "Rentenversicherung", "Retraite complémentaire", "Plan de pensiones"),
        w("Tax code", "Steuerklasse", "Taux de prélèvement", "Tipo de retención"),
        w("Employer", "Arbeitgeber", "Employeur", "Empresa"),
        w("Department", "Abteilung", "Service", "Departamento"),
        w("Payroll", "Personalabteilung", "Service paie", "Nóminas"),
        w("Holiday pay", "Urlaubsgeld", "Congés payés", "Paga extra"),
        w("Bank account", "Bankverbindung", "Virement sur compte", "Cuenta de abono"),
    ],
    "identity_document": [
        w("Date of issue", "Ausstellungsdatum", "Date de délivrance", "Fecha de expedición"),
        w("Authority", "Behörde", "Autorité", "Autoridad"),
        w("Height", "Größe", "Taille", "Altura"),
        w("Eye colour", "Augenfarbe", "Couleur des yeux", "Color de ojos"),
        w("Holder's signature", "Unterschrift des Inhabers", "Signature du titulaire", "Firma del titular"),
        w("Class", "Klasse", "Catégorie", "Clase"),
        w("Address", "Anschrift", "Adresse", "Domicilio"),
    ],
    "utility_bill": [
        w("Service address", "Lieferstelle", "Adresse de consommation", "Dirección de suministro"),
        w("Meter number", "Zählernummer", "N° de compteur", "N.º de contador"),
        w("Previous reading", "Alter Zählerstand", "Ancien index", "Lectura anterior"),
        w("Current reading", "Neuer Zählerstand", "Nouvel index", "Lectura actual"),
        w("Customer number", "Kundennummer", "N° client", "N.º de cliente"),
        w("Invoice number", "Rechnungsnummer", "N° de facture", "N.º de factura"),
        w("Due date", "Fälligkeit", "Date limite de paiement", "Fecha de cargo"),
        w("Monthly charges", "Monatliche Grundgebühr", "Abonnement mensuel", "Cuota mensual"),
        w("Data usage", "Datenvolumen", "Consommation data", "Datos consumidos"),
        w("Energy charge", "Energiepreis", "Consommation électricité", "Término de energía"),
        w("Network charges", "Netzentgelt", "Acheminement", "Peajes de acceso"),
        w("Your next payment", "Nächster Abschlag", "Prochaine échéance", "Próximo cargo"),
    ],
    "tax_form": [
        w("See separate instructions", "Siehe Anleitung", "Voir la notice", "Véanse las instrucciones"),
        w("Attach Form W-2 here", "Belege beifügen", "Joindre les justificatifs", "Adjunte los justificantes"),
        w(
            "Enter the amount from line 7",
            "Betrag aus Zeile 7",
            "Reportez le montant de la ligne 7",
            "Importe de la casilla 7",
        ),
        w(
            "For Paperwork Reduction Act Notice, see instructions",
            "Datenschutzhinweis",
            "Cerfa n° 10330",
            "Modelo oficial",
        ),
        w("Social security number", "Identifikationsnummer", "Numéro fiscal de référence", "NIF del declarante"),
        w("Employer identification number", "Steuernummer des Arbeitgebers", "SIRET de l'employeur", "NIF del pagador"),
        w(
            "Under penalties of perjury",
            "Ich versichere die Richtigkeit",
            "Je certifie exactes",
            "Declaro la veracidad",
        ),
        w("Amount you owe", "Nachzahlung", "Impôt à payer", "A ingresar"),
        w("Tax withheld", "Einbehaltene Steuer", "Retenue à la source", "Retenciones practicadas"),
        w("Adjusted gross income", "Summe der Einkünfte", "Revenu brut global", "Base liquidable"),
        w("Dependents", "Kinder", "Personnes à charge", "Descendientes"),
        w("Cat. No. 11320B", "Anlage N", "Formulaire 2042", "Modelo 100"),
    ],
    "letter": [
        w("Kind regards", "Viele Grüße", "Bien cordialement", "Saludos cordiales"),
        w("Best regards", "Beste Grüße", "Meilleures salutations", "Un saludo"),
        w("Enclosure", "Anlage", "Pièce jointe", "Anexo"),
        w("Our ref.", "Unser Zeichen", "Notre référence", "Nuestra referencia"),
        w("cc:", "Kopie an:", "Copie à :", "Copia a:"),
        w(
            "Please do not hesitate to contact us",
            "Für Rückfragen stehen wir gern zur Verfügung",
            "N'hésitez pas à nous contacter",
            "Quedamos a su disposición",
        ),
        w(
            "I look forward to hearing from you",
            "Ich freue mich auf Ihre Antwort",
            "Dans l'attente de votre réponse",
            "Quedo a la espera de su respuesta",
        ),
    ],
}

# Opening lines and sentences of letters by occasion (the prose around them is Faker's).
LETTER_OPENINGS: list[dict[str, str]] = [
    w(
        "I am writing to apply for the position advertised on your website.",
        "hiermit bewerbe ich mich um die ausgeschriebene Stelle.",
        "je me permets de vous adresser ma candidature pour le poste proposé.",
        "me dirijo a ustedes para solicitar el puesto anunciado.",
    ),
    w(
        "Thank you for your generous donation to our association.",
        "herzlichen Dank für Ihre großzügige Spende an unseren Verein.",
        "nous vous remercions chaleureusement pour votre don.",
        "le agradecemos de corazón su generoso donativo.",
    ),
    w(
        "We are pleased to invite you to our annual general meeting.",
        "wir laden Sie herzlich zu unserer Jahreshauptversammlung ein.",
        "nous avons le plaisir de vous inviter à notre assemblée générale.",
        "tenemos el placer de invitarle a nuestra asamblea general.",
    ),
    w(
        "We would like to inform you about a change to your contract.",
        "wir möchten Sie über eine Änderung Ihres Vertrags informieren.",
        "nous souhaitons vous informer d'une modification de votre contrat.",
        "queremos informarle de un cambio en su contrato.",
    ),
    w(
        "Further to our telephone conversation, I confirm the details below.",
        "wie telefonisch besprochen, bestätige ich Ihnen die folgenden Punkte.",
        "suite à notre entretien téléphonique, je vous confirme les éléments suivants.",
        "en relación con nuestra conversación telefónica, le confirmo lo siguiente.",
    ),
    w(
        "Operating earnings this year were better than we anticipated.",
        "das Geschäftsjahr verlief besser als erwartet.",
        "les résultats de l'exercice ont dépassé nos attentes.",
        "los resultados del ejercicio han superado nuestras previsiones.",
    ),
    w(
        "Please find enclosed the documents you requested.",
        "anbei erhalten Sie die angeforderten Unterlagen.",
        "veuillez trouver ci-joint les documents demandés.",
        "adjunto le remitimos la documentación solicitada.",
    ),
    w(
        "We have not yet received payment of the invoice mentioned above.",
        "leider konnten wir noch keinen Zahlungseingang für die oben genannte Rechnung feststellen.",
        "sauf erreur de notre part, la facture citée en référence reste impayée.",
        "no hemos recibido todavía el pago de la factura indicada.",
    ),
]
LETTER_GREETINGS: list[dict[str, str]] = [
    w("Dear Sir or Madam,", "Sehr geehrte Damen und Herren,", "Madame, Monsieur,", "Muy señores míos:"),
    w("To the shareholders:", "Liebe Mitglieder,", "Chers adhérents,", "Estimados socios:"),
    w("Dear colleagues,", "Liebe Kolleginnen und Kollegen,", "Chers collègues,", "Queridos compañeros:"),
    w("Ladies and Gentlemen,", "Guten Tag,", "Bonjour,", "Hola:"),
]

# Sentences of the invoice look-alikes (`other`): what makes each what it is, often naming an invoice.
OTHER_EXTRA: dict[str, list[dict[str, str]]] = {
    "credit_note": [
        w("Credit for invoice no.", "Gutschrift zur Rechnung Nr.", "Avoir sur facture n°", "Abono de la factura n.º"),
        w(
            "The amount will be refunded to your account",
            "Der Betrag wird Ihrem Konto gutgeschrieben",
            "Le montant sera remboursé",
            "El importe le será reembolsado",
        ),
    ],
    "delivery_note": [
        w(
            "Goods received in good condition",
            "Ware vollständig erhalten",
            "Marchandise reçue en bon état",
            "Mercancía recibida conforme",
        ),
        w("Number of packages", "Anzahl Packstücke", "Nombre de colis", "Número de bultos"),
        w("Carrier", "Spediteur", "Transporteur", "Transportista"),
        w(
            "The invoice follows separately",
            "Die Rechnung folgt separat",
            "La facture suivra",
            "La factura se enviará aparte",
        ),
    ],
    "quotation": [
        w(
            "This quotation is valid for 30 days",
            "Dieses Angebot ist 30 Tage gültig",
            "Devis valable 30 jours",
            "Presupuesto válido 30 días",
        ),
        w(
            "We look forward to your order",
            "Wir freuen uns auf Ihren Auftrag",
            "Dans l'attente de votre commande",
            "Esperamos su pedido",
        ),
        w("Valid until", "Gültig bis", "Valable jusqu'au", "Válido hasta"),
    ],
    "purchase_order": [
        w(
            "Please confirm receipt of this order",
            "Bitte bestätigen Sie den Auftrag",
            "Merci d'accuser réception",
            "Rogamos confirmen el pedido",
        ),
        w("Supplier", "Lieferant", "Fournisseur", "Proveedor"),
        w(
            "Requested delivery date",
            "Gewünschter Liefertermin",
            "Date de livraison souhaitée",
            "Fecha de entrega solicitada",
        ),
        w(
            "Please quote our order number on your invoice",
            "Bitte geben Sie unsere Bestellnummer auf der Rechnung an",
            "Rappelez notre n° de commande sur la facture",
            "Indiquen nuestro n.º de pedido en la factura",
        ),
    ],
    "order_confirmation": [
        w(
            "Thank you for your order",
            "Vielen Dank für Ihre Bestellung",
            "Merci pour votre commande",
            "Gracias por su pedido",
        ),
        w("Expected delivery", "Voraussichtliche Lieferung", "Livraison prévue", "Entrega prevista"),
        w(
            "An invoice will be sent on dispatch",
            "Die Rechnung erhalten Sie mit der Lieferung",
            "La facture sera envoyée à l'expédition",
            "La factura se enviará con el envío",
        ),
    ],
}
