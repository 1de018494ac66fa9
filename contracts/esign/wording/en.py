from .signer_words import SignerWords

WORDS = SignerWords(
    language="en",
    email_subject="Please sign: {contract_title}",
    email_body=(
        "Dear {signer_name},\n\n"
        '{provider_name} has sent you the contract "{contract_title}" for {account_name} '
        "to sign electronically.\n\n"
        "Please read and sign it here:\n{link}\n\n"
        "This link is personal to you; please do not forward it. It expires on {expires_on}. "
        "If you do not wish to sign, you can decline on the same page and tell us why.\n\n"
        "Kind regards,\n{provider_name}"
    ),
    reminder_subject="Reminder: please sign {contract_title}",
    reminder_body=(
        "Dear {signer_name},\n\n"
        'The contract "{contract_title}" for {account_name} is still waiting for your '
        "signature.\n\n"
        "Please read and sign it here:\n{link}\n\n"
        "The link expires on {expires_on}. If you do not wish to sign, you can decline on the "
        "same page and tell us why.\n\n"
        "Kind regards,\n{provider_name}"
    ),
    executed_subject="Signed by all parties: {contract_title}",
    executed_body=(
        "Dear {signer_name},\n\n"
        'Every party has now signed the contract "{contract_title}" for {account_name}.\n\n'
        "Your copy of the executed contract, sealed by {provider_name}, is here:\n{link}\n\n"
        "Please keep it for your records.\n\n"
        "Kind regards,\n{provider_name}"
    ),
    page_title="Review and sign the contract",
    document_sha256="Document SHA-256",
    page_of="Page {page} of {pages}",
    download_pdf="Download the PDF",
    consent_heading="Consent to sign electronically",
    consent=(
        "By typing my name and selecting “Sign”, I confirm the following. "
        "(1) I intend to sign this contract: my typed name, with my drawn signature if I add "
        "one, is my electronic signature, and I intend it to have the same binding effect as my "
        "handwritten signature. "
        "(2) I agree to do business electronically and to receive this contract and the "
        "notices and records about it electronically, at the e-mail address to which this "
        "signing link was sent; I will tell the sender if that address changes. "
        "(3) I am the person to whom this link was sent and I am authorised to sign for the "
        "party I represent; my signature is attributed to me by this link and by the date and "
        "time, IP address and browser recorded when I sign. "
        "(4) I will receive a copy of the executed contract by e-mail once all parties have "
        "signed, and I may ask the sender for a paper copy at any time, free of charge. "
        "(5) I may withdraw this consent before I sign, at no cost, by selecting "
        "“Decline” or by telling the sender; the contract is then not signed "
        "electronically, and I may ask the sender for another way to sign it. Withdrawing does "
        "not affect anything already signed electronically. "
        "To view and keep these documents I need only a web browser and a program that opens "
        "PDF files."
    ),
    consent_agree="I have read the statement above and I agree to it.",
    typed_name_label="Type your full name",
    drawn_signature_label="Draw your signature (optional)",
    clear="Clear",
    sign="Sign",
    decline="Decline",
    decline_reason_label="Reason for declining",
    typed_name_missing="Please type your full name.",
    consent_missing="Please confirm that you agree to sign electronically.",
    decline_reason_missing="Please give your reason for declining.",
    drawing_refused=(
        "Your drawn signature could not be used. Please clear it and draw it again, or sign "
        "with your typed name only."
    ),
    unavailable_heading="Signing is not possible",
    already_signed="You have already signed this contract. This link cannot be used again.",
    already_declined=(
        "You have already declined to sign this contract. This link cannot be used again."
    ),
    link_expired=(
        "This signing link has expired. If you still wish to sign the contract, please "
        "contact the sender."
    ),
    request_voided=(
        "The sender has withdrawn this signature request, so there is nothing to sign. "
        "If you have any questions, please contact the sender."
    ),
    link_invalid=(
        "This link is not valid. Please check that you copied the whole link from the e-mail, "
        "or ask the sender for a new one."
    ),
    not_your_turn=(
        "It is not your turn to sign yet. You will receive an e-mail as soon as the previous "
        "signers have signed."
    ),
    signed_heading="Thank you",
    signed_thanks=(
        "You have signed the contract. A copy of the executed contract will be e-mailed to you "
        "once all parties have signed."
    ),
    signed_complete=(
        "You have signed the contract, and every party has now signed. A copy of the executed "
        "contract has been e-mailed to you."
    ),
    declined_heading="You have declined to sign",
    declined_done="The sender has been told that you declined, and why.",
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    date_pattern="{day} {month} {year}",
)
