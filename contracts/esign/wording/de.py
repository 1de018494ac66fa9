from .signer_words import SignerWords

WORDS = SignerWords(
    language="de",
    email_subject="Zur Unterschrift: {contract_title}",
    email_body=(
        "Guten Tag {signer_name},\n\n"
        "{provider_name} hat Ihnen den Vertrag „{contract_title}“ für "
        "{account_name} zur elektronischen Unterschrift gesendet.\n\n"
        "Bitte lesen und unterschreiben Sie ihn hier:\n{link}\n\n"
        "Dieser Link ist nur für Sie bestimmt; bitte leiten Sie ihn nicht weiter. Er ist "
        "gültig bis zum {expires_on}. Wenn Sie nicht unterschreiben möchten, können "
        "Sie auf derselben Seite ablehnen und uns den Grund nennen.\n\n"
        "Mit freundlichen Grüßen\n{provider_name}"
    ),
    reminder_subject="Erinnerung: {contract_title} wartet auf Ihre Unterschrift",
    reminder_body=(
        "Guten Tag {signer_name},\n\n"
        "der Vertrag „{contract_title}“ für {account_name} wartet noch auf Ihre "
        "Unterschrift.\n\n"
        "Bitte lesen und unterschreiben Sie ihn hier:\n{link}\n\n"
        "Der Link ist gültig bis zum {expires_on}. Wenn Sie nicht unterschreiben möchten, "
        "können Sie auf derselben Seite ablehnen und uns den Grund nennen.\n\n"
        "Mit freundlichen Grüßen\n{provider_name}"
    ),
    executed_subject="Von allen Parteien unterschrieben: {contract_title}",
    executed_body=(
        "Guten Tag {signer_name},\n\n"
        "alle Parteien haben den Vertrag „{contract_title}“ für {account_name} nun "
        "unterschrieben.\n\n"
        "Ihre Ausfertigung des unterzeichneten Vertrags, versiegelt von {provider_name}, "
        "finden Sie hier:\n{link}\n\n"
        "Bitte bewahren Sie sie für Ihre Unterlagen auf.\n\n"
        "Mit freundlichen Grüßen\n{provider_name}"
    ),
    page_title="Vertrag prüfen und unterschreiben",
    document_sha256="SHA-256 des Dokuments",
    page_of="Seite {page} von {pages}",
    download_pdf="PDF herunterladen",
    consent_heading="Einwilligung in die elektronische Unterschrift",
    consent=(
        "Indem ich meinen Namen eingebe und „Unterschreiben“ wähle, bestätige "
        "ich Folgendes. "
        "(1) Ich beabsichtige, diesen Vertrag zu unterschreiben: Mein eingegebener Name, "
        "zusammen mit meiner gezeichneten Unterschrift, falls ich eine hinzufüge, ist meine "
        "elektronische Unterschrift, und sie soll dieselbe verbindliche Wirkung haben wie meine "
        "handschriftliche Unterschrift. "
        "(2) Ich bin damit einverstanden, dieses Geschäft elektronisch abzuwickeln und "
        "diesen Vertrag sowie die zugehörigen Mitteilungen und Unterlagen elektronisch an die "
        "E-Mail-Adresse zu erhalten, an die dieser Link gesendet wurde; ändert sich diese "
        "Adresse, teile ich dies dem Absender mit. "
        "(3) Ich bin die Person, an die dieser Link gesendet wurde, und bin berechtigt, für "
        "die von mir vertretene Partei zu unterschreiben; meine Unterschrift wird mir über "
        "diesen Link sowie über Datum und Uhrzeit, IP-Adresse und Browser zugeordnet, die "
        "bei der Unterschrift erfasst werden. "
        "(4) Ich erhalte eine Kopie des vollständig unterzeichneten Vertrags per E-Mail, "
        "sobald alle Parteien unterschrieben haben, und kann beim Absender jederzeit kostenlos "
        "eine Papierkopie anfordern. "
        "(5) Ich kann diese Einwilligung vor meiner Unterschrift kostenlos widerrufen, indem "
        "ich „Ablehnen“ wähle oder den Absender informiere; der Vertrag wird dann "
        "nicht elektronisch unterschrieben, und ich kann den Absender um einen anderen Weg zur "
        "Unterzeichnung bitten. Ein Widerruf lässt bereits elektronisch Unterschriebenes "
        "unberührt. "
        "Zum Anzeigen und Aufbewahren dieser Dokumente benötige ich nur einen Webbrowser "
        "und ein Programm, das PDF-Dateien öffnet."
    ),
    consent_agree="Ich habe die obige Erklärung gelesen und stimme ihr zu.",
    typed_name_label="Geben Sie Ihren vollständigen Namen ein",
    drawn_signature_label="Zeichnen Sie Ihre Unterschrift (optional)",
    clear="Löschen",
    sign="Unterschreiben",
    decline="Ablehnen",
    decline_reason_label="Grund der Ablehnung",
    typed_name_missing="Bitte geben Sie Ihren vollständigen Namen ein.",
    consent_missing="Bitte bestätigen Sie Ihre Einwilligung in die elektronische Unterschrift.",
    decline_reason_missing="Bitte nennen Sie den Grund für Ihre Ablehnung.",
    drawing_refused=(
        "Ihre gezeichnete Unterschrift konnte nicht übernommen werden. Bitte löschen Sie "
        "sie und zeichnen Sie sie erneut, oder unterschreiben Sie nur mit Ihrem eingegebenen "
        "Namen."
    ),
    unavailable_heading="Unterschrift nicht möglich",
    already_signed=(
        "Sie haben diesen Vertrag bereits unterschrieben. Dieser Link kann nicht erneut "
        "verwendet werden."
    ),
    already_declined=(
        "Sie haben die Unterschrift dieses Vertrags bereits abgelehnt. Dieser Link kann nicht "
        "erneut verwendet werden."
    ),
    link_expired=(
        "Dieser Link zur Unterschrift ist abgelaufen. Wenn Sie den Vertrag noch unterschreiben "
        "möchten, wenden Sie sich bitte an den Absender."
    ),
    request_voided=(
        "Der Absender hat diese Anfrage zur Unterschrift zurückgezogen; es gibt nichts zu "
        "unterschreiben. Bei Fragen wenden Sie sich bitte an den Absender."
    ),
    link_invalid=(
        "Dieser Link ist ungültig. Bitte prüfen Sie, ob Sie den vollständigen Link "
        "aus der E-Mail kopiert haben, oder bitten Sie den Absender um einen neuen Link."
    ),
    not_your_turn=(
        "Sie sind noch nicht an der Reihe. Sie erhalten eine E-Mail, sobald die vorherigen "
        "Unterzeichner unterschrieben haben."
    ),
    signed_heading="Vielen Dank",
    signed_thanks=(
        "Sie haben den Vertrag unterschrieben. Sobald alle Parteien unterschrieben haben, "
        "erhalten Sie eine Kopie des vollständig unterzeichneten Vertrags per E-Mail."
    ),
    signed_complete=(
        "Sie haben den Vertrag unterschrieben; damit haben alle Parteien unterschrieben. Eine "
        "Ausfertigung des unterzeichneten Vertrags wurde Ihnen per E-Mail gesendet."
    ),
    declined_heading="Sie haben die Unterschrift abgelehnt",
    declined_done="Der Absender wurde über Ihre Ablehnung und deren Grund informiert.",
    months=(
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    date_pattern="{day}. {month} {year}",
)
