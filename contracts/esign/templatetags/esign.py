from django import template

from contracts.esign.wording import SignerWords

register = template.Library()


@register.simple_tag
def page_of(words: SignerWords, page: int, pages: int) -> str:
    """ "Page 2 of 5" in the signer's language."""
    return words.page_of.format(page=page, pages=pages)
