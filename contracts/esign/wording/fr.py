from .signer_words import SignerWords

# French puts a space before ; : and inside « »: a no-break space (\u00a0), so a line never
# starts with the punctuation. Written as an escape because it looks like a plain space.
WORDS = SignerWords(
    language="fr",
    email_subject="Contrat à signer\u00a0: {contract_title}",
    email_body=(
        "Bonjour {signer_name},\n\n"
        "{provider_name} vous a envoyé le contrat «\u00a0{contract_title}\u00a0» pour "
        "{account_name}, à signer électroniquement.\n\n"
        "Veuillez le lire et le signer ici\u00a0:\n{link}\n\n"
        "Ce lien vous est personnel\u00a0; merci de ne pas le transférer. Il expire le "
        "{expires_on}. Si vous ne souhaitez pas signer, vous pouvez refuser sur la même page et "
        "nous en indiquer le motif.\n\n"
        "Cordialement,\n{provider_name}"
    ),
    reminder_subject="Rappel\u00a0: {contract_title} attend votre signature",
    reminder_body=(
        "Bonjour {signer_name},\n\n"
        "Le contrat «\u00a0{contract_title}\u00a0» pour {account_name} attend toujours votre "
        "signature.\n\n"
        "Veuillez le lire et le signer ici\u00a0:\n{link}\n\n"
        "Ce lien expire le {expires_on}. Si vous ne souhaitez pas signer, vous pouvez refuser "
        "sur la même page et nous en indiquer le motif.\n\n"
        "Cordialement,\n{provider_name}"
    ),
    executed_subject="Signé par toutes les parties : {contract_title}",
    executed_body=(
        "Bonjour {signer_name},\n\n"
        "Toutes les parties ont désormais signé le contrat « {contract_title} » pour "
        "{account_name}.\n\n"
        "Votre exemplaire du contrat signé, scellé par {provider_name}, est disponible ici :"
        "\n{link}\n\n"
        "Nous vous invitons à le conserver dans vos archives.\n\n"
        "Veuillez agréer nos salutations distinguées.\n{provider_name}"
    ),
    page_title="Vérifier et signer le contrat",
    document_sha256="Empreinte SHA-256 du document",
    page_of="Page {page} sur {pages}",
    download_pdf="Télécharger le PDF",
    consent_heading="Consentement à la signature électronique",
    consent=(
        "En saisissant mon nom et en sélectionnant «\u00a0Signer\u00a0», je confirme ce qui "
        "suit. "
        "(1) J’ai l’intention de signer ce contrat\u00a0: mon nom saisi, accompagné de ma "
        "signature dessinée si j’en ajoute une, constitue ma signature électronique, et "
        "j’entends qu’elle ait la même force obligatoire que ma signature manuscrite. "
        "(2) J’accepte de conclure cette opération par voie électronique et de recevoir ce "
        "contrat ainsi que les avis et documents qui s’y rapportent sous forme électronique, à "
        "l’adresse e-mail à laquelle ce lien a été envoyé\u00a0; j’informerai l’expéditeur si "
        "cette adresse change. "
        "(3) Je suis la personne à qui ce lien a été envoyé et je suis habilité(e) à signer pour "
        "la partie que je représente\u00a0; ma signature m’est attribuée par ce lien ainsi que "
        "par la date et l’heure, l’adresse IP et le navigateur enregistrés lors de la "
        "signature. "
        "(4) Je recevrai une copie du contrat signé par e-mail dès que toutes les parties "
        "l’auront signé, et je peux à tout moment demander gratuitement une copie papier à "
        "l’expéditeur. "
        "(5) Je peux retirer ce consentement sans frais avant de signer, en sélectionnant "
        "«\u00a0Refuser\u00a0» ou en informant l’expéditeur\u00a0; le contrat n’est alors pas "
        "signé électroniquement, et je peux demander à l’expéditeur un autre moyen de le "
        "signer. Ce retrait n’affecte pas ce qui a déjà été signé électroniquement. "
        "Pour consulter et conserver ces documents, il me suffit d’un navigateur web et d’un "
        "logiciel capable d’ouvrir les fichiers PDF."
    ),
    consent_agree="J’ai lu la déclaration ci-dessus et je l’accepte.",
    typed_name_label="Saisissez votre nom complet",
    drawn_signature_label="Dessinez votre signature (facultatif)",
    clear="Effacer",
    sign="Signer",
    decline="Refuser",
    decline_reason_label="Motif du refus",
    typed_name_missing="Veuillez saisir votre nom complet.",
    consent_missing="Veuillez confirmer votre consentement à la signature électronique.",
    decline_reason_missing="Veuillez indiquer le motif de votre refus.",
    drawing_refused=(
        "Votre signature dessinée n’a pas pu être utilisée. Veuillez l’effacer et la dessiner "
        "à nouveau, ou signer uniquement avec votre nom saisi."
    ),
    unavailable_heading="Signature impossible",
    already_signed="Vous avez déjà signé ce contrat. Ce lien ne peut plus être utilisé.",
    already_declined=(
        "Vous avez déjà refusé de signer ce contrat. Ce lien ne peut plus être utilisé."
    ),
    link_expired=(
        "Ce lien de signature a expiré. Si vous souhaitez toujours signer le contrat, veuillez "
        "contacter l’expéditeur."
    ),
    request_voided=(
        "L’expéditeur a retiré cette demande de signature\u00a0; il n’y a donc rien à signer. "
        "Pour toute question, veuillez contacter l’expéditeur."
    ),
    link_invalid=(
        "Ce lien n’est pas valide. Veuillez vérifier que vous avez copié le lien complet depuis "
        "l’e-mail, ou demander un nouveau lien à l’expéditeur."
    ),
    not_your_turn=(
        "Ce n’est pas encore votre tour de signer. Vous recevrez un e-mail dès que les "
        "signataires précédents auront signé."
    ),
    signed_heading="Merci",
    signed_thanks=(
        "Vous avez signé le contrat. Une copie du contrat signé vous sera envoyée par e-mail "
        "dès que toutes les parties l’auront signé."
    ),
    signed_complete=(
        "Vous avez signé le contrat, et toutes les parties l’ont désormais signé. Un "
        "exemplaire du contrat signé vous a été envoyé par e-mail."
    ),
    declined_heading="Vous avez refusé de signer",
    declined_done="L’expéditeur a été informé de votre refus et de son motif.",
    months=(
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    date_pattern="{day} {month} {year}",
    first_day="1er",
)
