from .signer_words import SignerWords

WORDS = SignerWords(
    language="es",
    email_subject="Contrato para firmar: {contract_title}",
    email_body=(
        "Estimado/a {signer_name}:\n\n"
        "{provider_name} le ha enviado el contrato «{contract_title}» para {account_name}, "
        "para que lo firme electrónicamente.\n\n"
        "Puede leerlo y firmarlo aquí:\n{link}\n\n"
        "Este enlace es personal; por favor, no lo reenvíe. Caduca el {expires_on}. Si no "
        "desea firmar, puede rechazarlo en la misma página e indicarnos el motivo.\n\n"
        "Atentamente,\n{provider_name}"
    ),
    reminder_subject="Recordatorio: {contract_title} está pendiente de su firma",
    reminder_body=(
        "Estimado/a {signer_name}:\n\n"
        "El contrato «{contract_title}» para {account_name} sigue pendiente de su firma.\n\n"
        "Puede leerlo y firmarlo aquí:\n{link}\n\n"
        "El enlace caduca el {expires_on}. Si no desea firmar, puede rechazarlo en la misma "
        "página e indicarnos el motivo.\n\n"
        "Atentamente,\n{provider_name}"
    ),
    executed_subject="Firmado por todas las partes: {contract_title}",
    executed_body=(
        "Estimado/a {signer_name}:\n\n"
        "Todas las partes han firmado ya el contrato «{contract_title}» para "
        "{account_name}.\n\n"
        "Su copia del contrato firmado, sellada por {provider_name}, está disponible aquí:"
        "\n{link}\n\n"
        "Le rogamos que la conserve para sus archivos.\n\n"
        "Atentamente,\n{provider_name}"
    ),
    page_title="Revisar y firmar el contrato",
    document_sha256="SHA-256 del documento",
    page_of="Página {page} de {pages}",
    download_pdf="Descargar el PDF",
    consent_heading="Consentimiento para firmar electrónicamente",
    consent=(
        "Al escribir mi nombre y seleccionar «Firmar», confirmo lo siguiente. "
        "(1) Tengo la intención de firmar este contrato: mi nombre escrito, junto con mi firma "
        "dibujada si la añado, constituye mi firma electrónica, y es mi voluntad que tenga el "
        "mismo efecto vinculante que mi firma manuscrita. "
        "(2) Acepto realizar esta operación por medios electrónicos y recibir este contrato, así "
        "como las notificaciones y documentos relacionados con él, en formato electrónico en la "
        "dirección de correo electrónico a la que se envió este enlace; informaré al remitente "
        "si dicha dirección cambia. "
        "(3) Soy la persona a la que se envió este enlace y estoy autorizado/a para firmar en "
        "nombre de la parte a la que represento; mi firma se me atribuye mediante este enlace y "
        "mediante la fecha y hora, la dirección IP y el navegador registrados al firmar. "
        "(4) Recibiré por correo electrónico una copia del contrato firmado en cuanto todas las "
        "partes lo hayan firmado, y puedo solicitar al remitente una copia en papel en cualquier "
        "momento y sin coste. "
        "(5) Puedo retirar este consentimiento sin coste antes de firmar, seleccionando "
        "«Rechazar» o comunicándoselo al remitente; en ese caso, el contrato no se firmará "
        "electrónicamente y puedo pedir al remitente otra forma de firmarlo. La retirada no "
        "afecta a lo que ya se haya firmado electrónicamente. "
        "Para ver y conservar estos documentos solo necesito un navegador web y un programa que "
        "abra archivos PDF."
    ),
    consent_agree="He leído la declaración anterior y la acepto.",
    typed_name_label="Escriba su nombre completo",
    drawn_signature_label="Dibuje su firma (opcional)",
    clear="Borrar",
    sign="Firmar",
    decline="Rechazar",
    decline_reason_label="Motivo del rechazo",
    typed_name_missing="Por favor, escriba su nombre completo.",
    consent_missing="Por favor, confirme su consentimiento para firmar electrónicamente.",
    decline_reason_missing="Por favor, indique el motivo de su rechazo.",
    drawing_refused=(
        "No se ha podido utilizar su firma dibujada. Bórrela y dibújela de nuevo, o firme solo "
        "con el nombre que ha escrito."
    ),
    unavailable_heading="No es posible firmar",
    already_signed="Usted ya ha firmado este contrato. Este enlace no puede volver a utilizarse.",
    already_declined=(
        "Usted ya ha rechazado firmar este contrato. Este enlace no puede volver a utilizarse."
    ),
    link_expired=(
        "Este enlace de firma ha caducado. Si aún desea firmar el contrato, póngase en contacto "
        "con el remitente."
    ),
    request_voided=(
        "El remitente ha retirado esta solicitud de firma, por lo que no hay nada que firmar. "
        "Si tiene alguna pregunta, póngase en contacto con el remitente."
    ),
    link_invalid=(
        "Este enlace no es válido. Compruebe que ha copiado el enlace completo del correo "
        "electrónico o solicite uno nuevo al remitente."
    ),
    not_your_turn=(
        "Todavía no es su turno para firmar. Recibirá un correo electrónico en cuanto hayan "
        "firmado los firmantes anteriores."
    ),
    signed_heading="Gracias",
    signed_thanks=(
        "Ha firmado el contrato. Recibirá por correo electrónico una copia del contrato firmado "
        "en cuanto todas las partes lo hayan firmado."
    ),
    signed_complete=(
        "Ha firmado el contrato y todas las partes lo han firmado ya. Le hemos enviado por "
        "correo electrónico una copia del contrato firmado."
    ),
    declined_heading="Ha rechazado firmar",
    declined_done="Se ha informado al remitente de su rechazo y del motivo.",
    months=(
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    date_pattern="{day} de {month} de {year}",
)
